import { resolve } from 'node:path';
import { commandContext, type CommandContext } from '../../commands/command-context.js';
import { CliError } from '../../exit-codes.js';
import { isPostgresUrl } from '../../store/open-store.js';
import { fail, ok, type Check } from '../check.js';
import type { DoctorFlags } from '../flags.js';

export function checkConfig(flags: DoctorFlags, env: NodeJS.ProcessEnv): { check: Check; context?: CommandContext } {
  let context: CommandContext;
  try {
    context = commandContext(flags, env);
  } catch (error) {
    if (!(error instanceof CliError)) return { check: fail('config', `unexpected error: ${(error as Error).message}`) };
    return { check: fail('config', `${error.message.replace(/^config /, '')}`) };
  }
  const { config } = context;
  const source = config.source ?? 'built-in defaults, no --config or HLS_CONFIG';
  const repositories = `${config.repositories.length} repositor${config.repositories.length === 1 ? 'y' : 'ies'}`;
  const unset =
    config.unresolved.length > 0 ? `; not configured (variable unset): ${config.unresolved.join(', ')}` : '';
  return { check: ok('config', `${source} (${repositories})${unset}`), context };
}

/** The database to check: the command's (a file path made absolute, or a postgres:// URL). */
export function databaseToCheck(
  flags: DoctorFlags,
  env: NodeJS.ProcessEnv,
  context: CommandContext | undefined,
): string | undefined {
  const target = context?.database ?? flags.db ?? (env.HLS_DB || env.HLS_DATABASE_URL || undefined);
  if (target === undefined || isPostgresUrl(target)) return target;
  return resolve(target);
}
