/** The database does not exist, or is still empty, and the command may not create it: exit 66. */
export class DatabaseMissingError extends Error {}

/** The database is not one this hls may use (another program's, or a schema version it cannot use): exit 78. */
export class DatabaseRefusedError extends Error {}

/** The database cannot be reached or answered with an error that a later try may not meet: exit 75. */
export class DatabaseUnavailableError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Another process runs under the id a worker was started with. */
export class WorkerIdInUseError extends Error {}

/** SQLite found malformed pages (SQLITE_CORRUPT…), or PostgreSQL reported corrupt data (class XX). */
export function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'XX001' || code === 'XX002');
}

export function schemaTooNew(version: number, supported: number): DatabaseRefusedError {
  return new DatabaseRefusedError(
    `database schema version ${version} is newer than this hls supports (${supported}): upgrade hls`,
  );
}

/** PostgreSQL error classes that a later try may not meet: connection (08), resources (53), shutdown (57P). */
const POSTGRES_TRANSIENT = /^(08|53|57P|40001|40P01)/;
const NETWORK = /^(E(CONN|HOST|NET|PIPE|TIMEDOUT|AI_AGAIN|NOTFOUND)|CONNECT_TIMEOUT|CONNECTION_)/;

/**
 * The database failed in a way that waiting may fix: busy, out of space, unreachable, restarting.
 * Corruption is not (it needs a person); neither is anything that is not a database error (a bug).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (isCorruption(error)) return false;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return code.startsWith('SQLITE_') || POSTGRES_TRANSIENT.test(code) || NETWORK.test(code);
}
