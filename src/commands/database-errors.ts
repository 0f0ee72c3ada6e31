import { CliError, EXIT } from '../exit-codes.js';
import { DatabaseMissingError, DatabaseRefusedError, isCorruption } from '../store/errors.js';
import { describeTarget } from '../store/open-store.js';

/**
 * The one line and exit code for a database this command cannot use at all: missing (66), not hls's or
 * of the wrong schema version (78), corrupt (74). Undefined for anything else (busy, unreachable, full
 * disk…), which each command reports as temporary (75) in its own words.
 */
export function databaseRefusal(error: unknown, target?: string): CliError | undefined {
  if (error instanceof DatabaseMissingError) return new CliError(error.message, EXIT.NO_INPUT);
  if (error instanceof DatabaseRefusedError) return new CliError(error.message, EXIT.CONFIG);
  if (isCorruption(error)) {
    return new CliError(
      `database ${target ? `${describeTarget(target)} ` : ''}is corrupt (${(error as { code: string }).code}: ` +
        `${(error as Error).message}): stop the workers, run hls doctor, restore the file from a backup`,
      EXIT.IO_ERROR,
    );
  }
  return undefined;
}

/** Busy, unreachable, out of space: a later try may succeed (exit 75). */
export function databaseUnavailable(error: unknown, target: string, advice?: string): CliError {
  const code = (error as { code?: string }).code;
  const line = `database ${describeTarget(target)}: ${code ?? ''} ${(error as Error).message}`.replace(/\s+/g, ' ');
  return new CliError(advice ? `${line}: ${advice}` : line, EXIT.TEMP_FAIL);
}
