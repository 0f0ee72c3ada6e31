import { CliError, EXIT } from '../exit-codes.js';
import { DatabaseMissingError, DatabaseRefusedError, isCorruption } from '../store/identity.js';

/**
 * The one line and exit code for a database this command cannot use at all: missing (66), not hls's or
 * of the wrong schema version (78), corrupt (74). Undefined for anything else (busy, full disk…), which
 * each command reports as temporary (75) in its own words.
 */
export function databaseRefusal(error: unknown, path?: string): CliError | undefined {
  if (error instanceof DatabaseMissingError) return new CliError(error.message, EXIT.NO_INPUT);
  if (error instanceof DatabaseRefusedError) return new CliError(error.message, EXIT.CONFIG);
  if (isCorruption(error)) {
    return new CliError(
      `database ${path ? `${path} ` : ''}is corrupt (${(error as { code: string }).code}: ${(error as Error).message}): ` +
        'stop the workers, run hls doctor, restore the file from a backup',
      EXIT.IO_ERROR,
    );
  }
  return undefined;
}
