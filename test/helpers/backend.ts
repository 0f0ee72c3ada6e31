// Which store backend this test run exercises (HLS_TEST_BACKEND, set per vitest project), a fresh
// database on it, and the markers for tests that only make sense on one backend.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, inject, it } from 'vitest';
import { isPostgresUrl } from '../../src/store/open-store.js';
import { query } from './hls.js';
import { psql, urlOfDatabase } from './psql.js';

export type Backend = 'sqlite' | 'postgres';

export const BACKEND: Backend = process.env.HLS_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The admin URL of the run's PostgreSQL cluster (test/helpers/postgres-global-setup.ts). */
    postgresAdminUrl: string;
  }
}

/** The admin URL of the run's cluster; throws what to install when the run has none. */
export function postgresAdminUrl(): string {
  const url = inject('postgresAdminUrl');
  if (!url) {
    throw new Error(
      'the postgres test project needs PostgreSQL (Debian package `postgresql`: initdb, pg_ctl, psql) and ' +
        'CI or HLS_REQUIRE_POSTGRES is set: apt-get install postgresql',
    );
  }
  return url;
}

let databases = 0;

/** A new, empty database for one test: SQLite: `dir`/hls.db (not created); PostgreSQL: its URL. */
export function newDatabase(dir: string): string {
  if (BACKEND === 'sqlite') return join(dir, 'hls.db');
  const adminUrl = postgresAdminUrl();
  // No "test" in the name: tests look for fragments of secrets like ghp_test in what hls prints.
  const name = `hlsdb_${process.pid}_${++databases}`;
  psql(adminUrl, `CREATE DATABASE ${name}`);
  return urlOfDatabase(adminUrl, name);
}

/** Whether hls has created its store at `target`: the SQLite file exists, or the database has tables. */
export function storeCreated(target: string): boolean {
  if (!isPostgresUrl(target)) return existsSync(target);
  return query<{ n: number }>(target, `SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'`)[0]!.n > 0;
}

/** Whether the database at `target` exists and has table `name`. */
export function hasTable(target: string, name: string): boolean {
  if (isPostgresUrl(target))
    return query(target, `SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = ?`, name).length > 0;
  if (!existsSync(target)) return false;
  return query(target, `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`, name).length > 0;
}

/**
 * Everything the database holds, as text, to look for what must never be stored (or to compare before
 * and after a command that must write nothing): the SQLite file and its WAL, or a pg_dump of the database.
 */
export function storedText(target: string): string {
  if (isPostgresUrl(target)) {
    // Without the random \restrict key recent pg_dump versions put in every dump.
    return execFileSync('pg_dump', ['-d', target], { encoding: 'utf8' }).replace(/^\\(un)?restrict .*$/gm, '');
  }
  const wal = `${target}-wal`;
  return [target, wal]
    .filter((file) => file === target || existsSync(file))
    .map((file) => readFileSync(file).toString('latin1'))
    .join('');
}

const announced = new Set<string>();

/** Says once per run of a file why some tests do not run on this backend. */
function announceSkip(backend: Backend, reason: string): void {
  if (announced.has(reason)) return;
  announced.add(reason);
  console.info(`[${BACKEND}] skipped, ${backend} only: ${reason}`);
}

/** `describe` that runs only on `backend`; `reason` says why the suite does not apply to the other. */
export function describeOn(backend: Backend, reason: string): typeof describe.skip {
  if (BACKEND !== backend) announceSkip(backend, reason);
  return describe.skipIf(BACKEND !== backend);
}

/** `it` that runs only on `backend`; `reason` says why the test does not apply to the other. */
export function itOn(backend: Backend, reason: string): typeof it.skip {
  if (BACKEND !== backend) announceSkip(backend, reason);
  return it.skipIf(BACKEND !== backend);
}

/** Text as the test backend stores it: PostgreSQL's text cannot hold U+0000, which hls stores as U+FFFD. */
export function asStored<T extends string | null>(text: T): T {
  return (BACKEND === 'postgres' && text !== null ? text.replaceAll('\0', '\uFFFD') : text) as T;
}
