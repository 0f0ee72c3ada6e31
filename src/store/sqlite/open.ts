import Database from 'better-sqlite3';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DatabaseMissingError, DatabaseRefusedError, schemaTooNew } from '../errors.js';
import type { OpenOptions } from '../open-store.js';
import { identifyDatabase } from './identity.js';
import { migrate, SCHEMA_VERSION } from './migrate.js';

export type Db = Database.Database;

/**
 * Opens the queue database; refuses (DatabaseMissingError, DatabaseRefusedError) before changing
 * anything in a file that is not hls's or that this command may not create or migrate.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  if (!options.create && !existsSync(path)) throw missing(path, 'does not exist');
  if (options.create) createPrivateFile(path);
  const db = new Database(path, { fileMustExist: true, nativeBinding: nativeBinding() });
  try {
    // Settings of this connection only: nothing here writes to the file.
    db.pragma(`busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs ?? 5000))}`);
    db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    const { owner, version } = identifyDatabase(db);
    if (owner === 'foreign') {
      throw new DatabaseRefusedError(
        `${path} is not an hls database (another program's SQLite file?): left untouched; check --db, HLS_DB or database.path`,
      );
    }
    if (options.create) migrate(db);
    else if (owner === 'new') throw missing(path, 'is empty');
    else if (version > SCHEMA_VERSION) throw schemaTooNew(version, SCHEMA_VERSION);
    else if (version < SCHEMA_VERSION) {
      throw new DatabaseRefusedError(
        `database ${path} has schema version ${version}, this hls uses ${SCHEMA_VERSION}: start a worker or run ` +
          `hls queue once to upgrade it`,
      );
    }
    return db;
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code !== 'SQLITE_NOTADB') throw error;
    throw new DatabaseRefusedError(`${path} is not an SQLite database: check --db, HLS_DB or database.path`);
  }
}

function missing(path: string, state: string): DatabaseMissingError {
  return new DatabaseMissingError(`database ${path} ${state}: nothing has been queued yet, or pass --db / HLS_DB`);
}

/** Naming the addon directly skips the `bindings` package's search of a dozen paths on every start. */
function nativeBinding(): string {
  return createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
}

/** SQLite would create the file with the umask's mode; the queue holds payloads, so only the owner may read it. */
function createPrivateFile(path: string): void {
  closeSync(openSync(path, constants.O_CREAT | constants.O_RDWR, 0o600));
}
