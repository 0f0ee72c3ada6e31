import { readdirSync, readFileSync } from 'node:fs';
import { schemaTooNew } from '../errors.js';
import { packageRoot } from '../package-root.js';
import { HLS_APPLICATION_ID } from './identity.js';
import type { Db } from './open.js';

/** schema.sql is version 1; migrations/NNN_*.sql (NNN ≥ 2) each end with `PRAGMA user_version = NNN;`. */
export const SCHEMA_VERSION = 7;

/**
 * Brings a new or hls file (see identifyDatabase) to SCHEMA_VERSION and stamps hls's application_id.
 * Safe when many processes open a new file at once: the version is re-read inside an IMMEDIATE
 * transaction, so exactly one of them applies the schema. A newer file is refused before anything changes.
 */
export function migrate(db: Db): void {
  const version = currentVersion(db);
  if (version > SCHEMA_VERSION) throw schemaTooNew(version, SCHEMA_VERSION);
  if (version === SCHEMA_VERSION && db.pragma('application_id', { simple: true }) === HLS_APPLICATION_ID) return;
  // Lets `hls prune` give freed pages back to the file system; only possible before the first table.
  if (version === 0) db.pragma('auto_vacuum = INCREMENTAL');
  switchToWal(db);
  db.transaction(() => {
    const version = currentVersion(db);
    if (version > SCHEMA_VERSION) throw schemaTooNew(version, SCHEMA_VERSION);
    for (const migration of migrationsAfter(version)) db.exec(readFileSync(migration, 'utf8'));
    db.pragma(`application_id = ${HLS_APPLICATION_ID}`);
  }).immediate();
}

/**
 * journal_mode cannot change inside a transaction; it is persistent, so this runs once per file. The
 * switch upgrades a read lock to a write lock, which SQLite does without calling the busy handler,
 * so a process racing another one over a new file retries here until its busy timeout.
 */
function switchToWal(db: Db): void {
  const deadline = Date.now() + (db.pragma('busy_timeout', { simple: true }) as number);
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.random() * 20);
    }
  }
}

function currentVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrationsAfter(version: number): URL[] {
  const root = packageRoot();
  const dir = new URL('migrations/', root);
  const numbered = listSqlFiles(dir).flatMap((name) => {
    const number = Number(/^(\d+)_[\w-]+\.sql$/.exec(name)?.[1]);
    return number > 1 ? [{ number, url: new URL(name, dir) }] : [];
  });
  return [{ number: 1, url: new URL('schema.sql', root) }, ...numbered]
    .filter((migration) => migration.number > version && migration.number <= SCHEMA_VERSION)
    .sort((a, b) => a.number - b.number)
    .map((migration) => migration.url);
}

function listSqlFiles(dir: URL): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
