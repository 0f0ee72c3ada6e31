import { DatabaseMissingError, DatabaseUnavailableError, isDatabaseUnavailable } from '../errors.js';

const AUTHENTICATION = new Set(['28P01', '28000']);

/** What an operator should look at, by the kind of failure. */
function unavailable(code: string): string {
  if (/^(08|E|CONNECT)/.test(code)) {
    return `cannot be reached (${code}): check that the server runs, and the host and port in database.url or HLS_DATABASE_URL`;
  }
  if (/^(57P|53300)/.test(code)) {
    return `is not accepting connections now (${code}): check the server's state and max_connections`;
  }
  return `failed in a way a later try may not meet (${code}): check the server's log`;
}

/**
 * The error an operator can act on: DatabaseUnavailableError (exit 75) when the server cannot be
 * reached, refused the login, went away or failed in a way waiting may fix; DatabaseMissingError
 * when the database does not exist; any other error as it is. Messages name the target as
 * `location` (no password) and what to check.
 */
export function asStoreError(error: unknown, location: string): unknown {
  if (error instanceof DatabaseUnavailableError || error instanceof DatabaseMissingError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
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
  if (!isDatabaseUnavailable(error)) return error;
  return new DatabaseUnavailableError(`PostgreSQL at ${location} ${unavailable(code)}`, code);
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
