import Database from 'better-sqlite3';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { migrate } from './migrate.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** Fail instead of creating the file (read-only commands). */
  mustExist?: boolean;
  /** How long a statement waits for another process's write lock. */
  busyTimeoutMs?: number;
  /** FULL on the enqueue path, so that exit 0 means the event is on disk. */
  synchronous?: 'FULL' | 'NORMAL';
}

export class DatabaseMissingError extends Error {}

/** Opens (creating with mode 0600 if needed) and migrates the queue database. */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  if (options.mustExist && !existsSync(path)) throw new DatabaseMissingError(`database ${path} does not exist`);
  if (!options.mustExist) createPrivateFile(path);
  const db = new Database(path, { fileMustExist: true, nativeBinding: nativeBinding() });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs ?? 5000))}`);
    db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Naming the addon directly skips the `bindings` package's search of a dozen paths on every start. */
function nativeBinding(): string {
  return createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
}

/** SQLite would create the file with the umask's mode; the queue holds payloads, so only the owner may read it. */
function createPrivateFile(path: string): void {
  closeSync(openSync(path, constants.O_CREAT | constants.O_RDWR, 0o600));
}
