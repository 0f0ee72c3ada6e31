import type { CommandContext, GlobalOptions } from '../commands/command-context.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { Scope } from './types.js';

export interface RecoverFlags extends GlobalOptions {
  /** Window in ms (default 24 h). */
  since?: number;
  repo?: string;
  org?: string;
  hookId?: number;
  dryRun?: boolean;
  json?: boolean;
  /** Minimum time between two redelivery requests (default 1000). */
  paceMs?: number;
}

/** Rejects contradictory or malformed --repo, --org and --hook-id. */
export function validateFlags(flags: RecoverFlags): void {
  if (flags.repo && flags.org) throw new CliError('pass either --repo or --org, not both', EXIT.USAGE);
  if (flags.hookId !== undefined && !flags.repo && !flags.org) {
    throw new CliError('--hook-id needs --repo OWNER/REPO or --org ORG (hook ids belong to one of them)', EXIT.USAGE);
  }
  if (flags.repo !== undefined && !/^[^/\s]+\/[^/\s]+$/.test(flags.repo)) {
    throw new CliError(`invalid --repo "${flags.repo}": expected OWNER/REPO`, EXIT.USAGE);
  }
  if (flags.org !== undefined && !/^[^/\s]+$/.test(flags.org)) {
    throw new CliError(`invalid --org "${flags.org}": expected an organisation login`, EXIT.USAGE);
  }
}

/** The repositories or organisation whose hooks are read: --org, --repo, else the enabled repositories. */
export function scopesToRead(flags: RecoverFlags, config: CommandContext['config']): { scope: Scope; name: string }[] {
  const scopes: { scope: Scope; name: string }[] = flags.org
    ? [{ scope: 'organization', name: flags.org }]
    : flags.repo
      ? [{ scope: 'repository', name: flags.repo }]
      : config.repositories.filter((repo) => repo.enabled).map((repo) => ({ scope: 'repository', name: repo.name }));
  if (scopes.length === 0) {
    throw new CliError('no repositories configured (repositories[]): pass --repo OWNER/REPO or --org ORG', EXIT.USAGE);
  }
  return scopes;
}
