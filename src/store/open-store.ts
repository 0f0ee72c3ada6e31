import type { Store } from './store.js';

export interface OpenOptions {
  /**
   * `hls queue` and `hls worker` only: create a missing database and bring a new or older hls schema
   * up to date. Without it the database must already be hls's at this schema: nothing is created or migrated.
   */
  create?: boolean;
  /** How long to wait for another process's lock (SQLite) or for a connection (PostgreSQL). */
  busyTimeoutMs?: number;
  /** SQLite: FULL on the enqueue path, so that exit 0 means the event is on disk. */
  synchronous?: 'FULL' | 'NORMAL';
  /** PostgreSQL: connections this process may open (a short command needs one). */
  maxConnections?: number;
  /** PostgreSQL: a statement (a lock wait included) that runs longer fails, so a deadline holds. */
  statementTimeoutMs?: number;
}

/** `postgres://` or `postgresql://`: the PostgreSQL backend; anything else is an SQLite file path. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** The target as it may be printed: a URL loses its password (and any password= parameter). */
export function describeTarget(target: string): string {
  if (!isPostgresUrl(target)) return target;
  try {
    const url = new URL(target);
    if (url.password) url.password = '***';
    for (const key of [...url.searchParams.keys()]) {
      if (/pass/i.test(key)) url.searchParams.set(key, '***');
    }
    return url.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** Opens the store of `target`, loading only the driver that backend needs. */
export async function openStore(target: string, options: OpenOptions = {}): Promise<Store> {
  if (isPostgresUrl(target)) {
    const { openPostgresStore } = await import('./postgres/index.js');
    return openPostgresStore(target, options);
  }
  const { openSqliteStore } = await import('./sqlite/index.js');
  return openSqliteStore(target, options);
}
