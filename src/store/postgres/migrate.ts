import { readdirSync, readFileSync } from 'node:fs';
import { DatabaseRefusedError, schemaTooNew } from '../errors.js';
import { packageRoot } from '../package-root.js';
import type { Db, Sql } from './connect.js';
import { lockForTransaction } from './locks.js';

/** migrations/postgres/NNN_*.sql up to this one; 001 is the whole schema. */
export const POSTGRES_SCHEMA_VERSION = 3;

/**
 * new: no table in the current schema, hls may create its own. hls: it has hls's hls_schema table.
 * foreign: tables, but not hls's — another program's database, never to be touched.
 */
export type DatabaseOwner = 'new' | 'hls' | 'foreign';

/** Reads the catalog and hls_schema only, changing nothing. */
export async function identify(sql: Db): Promise<{ owner: DatabaseOwner; version: number }> {
  const [found] = await sql<{ hls: boolean; relations: number }[]>`
    SELECT to_regclass('hls_schema') IS NOT NULL AS hls,
           (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')) AS relations`;
  if (!found!.hls) return { owner: found!.relations === 0 ? 'new' : 'foreign', version: 0 };
  const [schema] = await sql<{ version: number }[]>`SELECT coalesce(max(version), 0) AS version FROM hls_schema`;
  return { owner: 'hls', version: schema!.version };
}

export function notHls(location: string): DatabaseRefusedError {
  return new DatabaseRefusedError(
    `${location} is not an hls database (it has tables but no hls_schema): left untouched; check database.url or HLS_DATABASE_URL`,
  );
}

/**
 * Brings a new or older hls database to POSTGRES_SCHEMA_VERSION. Each migration runs in its own
 * transaction with its hls_schema row, under an advisory lock and after reading the version again,
 * so that of many processes starting at once against a new database exactly one applies each.
 */
export async function migrate(sql: Sql, location: string): Promise<void> {
  const migrations = migrationFiles();
  for (;;) {
    const applied = await sql.begin(async (tx) => {
      await lockForTransaction(tx, 'migration');
      const { owner, version } = await identify(tx);
      if (owner === 'foreign') throw notHls(location);
      if (version > POSTGRES_SCHEMA_VERSION) throw schemaTooNew(version, POSTGRES_SCHEMA_VERSION);
      const next = migrations.find((migration) => migration.number > version);
      if (!next) return false;
      await tx.unsafe(readFileSync(next.url, 'utf8')).simple();
      await tx`INSERT INTO hls_schema (version, applied_at) VALUES (${next.number}, hls_now_ms())`;
      return true;
    });
    if (!applied) return;
  }
}

function migrationFiles(): { number: number; url: URL }[] {
  const dir = new URL('migrations/postgres/', packageRoot());
  return readdirSync(dir)
    .flatMap((name) => {
      const number = Number(/^(\d+)_[\w-]+\.sql$/.exec(name)?.[1]);
      return number >= 1 && number <= POSTGRES_SCHEMA_VERSION ? [{ number, url: new URL(name, dir) }] : [];
    })
    .sort((a, b) => a.number - b.number);
}
