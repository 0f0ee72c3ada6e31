import type { CommandContext, GlobalOptions } from '../commands/command-context.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { Scope } from './types.js';

export interface RecoverFlags extends GlobalOptions {
  /** Window in ms (default 24 h). */
  since?: number;
  repo?: string;
  org?: string;
  /** The GitHub App's own webhook (the default when github.app is configured and neither --repo nor --org is). */
  app?: boolean;
  hookId?: number;
  dryRun?: boolean;
  json?: boolean;
  /** Minimum time between two redelivery requests (default 1000). */
  paceMs?: number;
}

/** Rejects contradictory or malformed --repo, --org and --hook-id. */
export function validateFlags(flags: RecoverFlags): void {
  if ([flags.repo, flags.org, flags.app].filter(Boolean).length > 1) {
    throw new CliError('pass one of --repo, --org or --app', EXIT.USAGE);
  }
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

/**
 * The webhooks read: --org, --repo, --app; else the App's (github.app configured), else those of the
 * enabled repositories.
 */
export function scopesToRead(flags: RecoverFlags, config: CommandContext['config']): { scope: Scope; name: string }[] {
  const app = config.github.app;
  if (flags.app && !app) throw new CliError('--app needs a GitHub App configured (github.app)', EXIT.CONFIG);
  if (app && (flags.app || (!flags.repo && !flags.org))) return [{ scope: 'app', name: `GitHub App ${app.id}` }];
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
