import { DatabaseMissingError, DatabaseUnavailableError } from '../errors.js';

/** Codes postgres.js and Node give when the server cannot be reached or the connection was cut. */
const UNREACHABLE = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** SQLSTATEs of a server shutting down, starting, or full. */
const SERVER_BUSY = new Set(['57P01', '57P02', '57P03', '53300', '53400']);

const AUTHENTICATION = new Set(['28P01', '28000']);

/**
 * The error an operator can act on: DatabaseUnavailableError (exit 75) when the server cannot be
 * reached, refused the login or went away, DatabaseMissingError when the database does not exist;
 * any other error as it is. Messages name the target as `location` (no password) and what to check.
 */
export function asStoreError(error: unknown, location: string): unknown {
  if (error instanceof DatabaseUnavailableError || error instanceof DatabaseMissingError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  if (UNREACHABLE.has(code) || code.startsWith('08')) {
    return new DatabaseUnavailableError(
      `PostgreSQL at ${location} cannot be reached (${code}): check that the server runs, and the host and port ` +
        `in database.url or HLS_DATABASE_URL`,
      code,
    );
  }
  if (SERVER_BUSY.has(code)) {
    return new DatabaseUnavailableError(
      `PostgreSQL at ${location} is not accepting connections now (${code}): check the server's state and max_connections`,
      code,
    );
  }
  if (AUTHENTICATION.has(code)) {
    return new DatabaseUnavailableError(
      `PostgreSQL at ${location} refused the login (${code}): check the user, and the password in the URL, ` +
        `PGPASSWORD or the passfile (mode 0600)`,
      code,
    );
  }
  if (code === '3D000') {
    return new DatabaseMissingError(`database ${location} does not exist: create it (createdb) or check database.url`);
  }
  return error;
}

/** The same methods, throwing asStoreError's errors. */
export function translatingErrors<T extends object>(methods: T, location: string): T {
  return Object.fromEntries(
    Object.entries(methods).map(([name, method]) => [
      name,
      async (...args: unknown[]) => {
        try {
          return await (method as (...a: unknown[]) => Promise<unknown>)(...args);
        } catch (error) {
          throw asStoreError(error, location);
        }
      },
    ]),
  ) as T;
}
