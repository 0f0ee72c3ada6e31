import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import postgres from 'postgres';
import { DatabaseRefusedError } from '../errors.js';
import type { OpenOptions } from '../open-store.js';
import { passwordFromPassfile } from './passfile.js';

/**
 * bigint (epoch ms, ids, counts) and numeric (sums) come back as JS numbers: all fit in 2^53. A
 * fractional number bound to a bigint (a computed backoff or lease) is rounded to the millisecond.
 */
const NUMBERS = {
  int8: {
    to: 20,
    from: [20],
    serialize: (value: number) => String(Math.round(value)),
    parse: (raw: string) => Number(raw),
  },
  numeric: {
    to: 1700,
    from: [1700],
    serialize: (value: number) => String(value),
    parse: (raw: string) => Number(raw),
  },
  /**
   * PostgreSQL text cannot hold U+0000 (SQLite's can): a NUL that came with a payload (a repository name,
   * a title quoted in a prompt or an error) is stored as U+FFFD. The payload itself is bytea, byte-exact.
   */
  text: {
    to: 25,
    from: [25],
    serialize: (value: string) => String(value).replaceAll('\0', '\uFFFD'),
    parse: (raw: string) => raw,
  },
};

export type Sql = postgres.Sql<{ int8: number; numeric: number; text: string }>;
export type Transaction = postgres.TransactionSql<{ int8: number; numeric: number; text: string }>;
/** Where a query may run: the pool, or inside a transaction. */
export type Db = Sql | Transaction;

/** postgres.js's own options minus what the URL gives, as a LISTEN connection needs them again. */
export type ConnectOptions = postgres.Options<typeof NUMBERS>;

/**
 * The options of a connection pool to `url`: the password from the URL, PGPASSWORD or a passfile,
 * `sslmode` as libpq reads it (prefer by default), and the URL without the parameters it translates.
 */
export function connectOptions(url: string, options: OpenOptions): { url: string; options: ConnectOptions } {
  const parsed = new URL(url);
  const sslmode = parsed.searchParams.get('sslmode') ?? process.env.PGSSLMODE ?? 'prefer';
  const sslrootcert = parsed.searchParams.get('sslrootcert') ?? process.env.PGSSLROOTCERT;
  parsed.searchParams.delete('sslmode');
  parsed.searchParams.delete('sslrootcert');
  return {
    url: parsed.toString(),
    options: {
      max: options.maxConnections ?? 4,
      connect_timeout: (options.busyTimeoutMs ?? 5000) / 1000,
      pass: password(parsed),
      ssl: tlsOptions(sslmode, sslrootcert),
      types: NUMBERS,
      fetch_types: false,
      onnotice: () => {},
      connection: {
        application_name: 'hls',
        ...(options.statementTimeoutMs === undefined
          ? {}
          : { statement_timeout: Math.max(1, Math.round(options.statementTimeoutMs)) }),
      },
    },
  };
}

function password(url: URL): string | undefined {
  if (url.password) return decodeURIComponent(url.password);
  if (process.env.PGPASSWORD) return process.env.PGPASSWORD;
  const user = decodeURIComponent(url.username) || process.env.PGUSER || userInfo().username;
  return passwordFromPassfile({
    host: decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1') || process.env.PGHOST || 'localhost',
    port: url.port || process.env.PGPORT || '5432',
    database: decodeURIComponent(url.pathname.slice(1)) || process.env.PGDATABASE || user,
    user,
  });
}

/** libpq's sslmode in postgres.js's terms; verify-ca checks the chain but not the host name, as libpq does. */
function tlsOptions(sslmode: string, rootCert: string | undefined): ConnectOptions['ssl'] {
  const ca = rootCert && rootCert !== 'system' ? { ca: readFileSync(rootCert, 'utf8') } : {};
  switch (sslmode) {
    case 'disable':
      return false;
    case 'allow':
    case 'prefer':
      return 'prefer';
    case 'require':
      return 'require';
    case 'verify-ca':
      return { ...ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ...ca, rejectUnauthorized: true };
    default:
      throw new DatabaseRefusedError(
        `sslmode=${sslmode} is not one of disable, allow, prefer, require, verify-ca, verify-full: check database.url`,
      );
  }
}
