import type { Statement } from 'better-sqlite3';
import type { Db } from './open.js';

const cache = new WeakMap<Db, Map<string, Statement>>();

/** Prepares each SQL text once per connection; workers run the same few statements thousands of times. */
export function statement(db: Db, sql: string): Statement {
  let statements = cache.get(db);
  if (!statements) cache.set(db, (statements = new Map()));
  let prepared = statements.get(sql);
  if (!prepared) statements.set(sql, (prepared = db.prepare(sql)));
  return prepared;
}

/**
 * Runs an `INSERT/UPDATE/DELETE … RETURNING` to its end and returns its rows. Outside a transaction
 * SQLite commits in the step that ends the statement: `.get()` stops at the first row and leaves the
 * commit to the reset, whose error (SQLITE_FULL, SQLITE_IOERR) better-sqlite3 drops, so the caller
 * would get a row that was never stored. Every writing statement whose rows are read goes through here.
 */
export function writeReturning<T>(db: Db, sql: string, ...params: unknown[]): T[] {
  return statement(db, sql).all(...params) as T[];
}
