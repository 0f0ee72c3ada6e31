import Database from 'better-sqlite3';
import { identifyDatabase, type DatabaseOwner } from './identity.js';

export interface SqliteFileHeader {
  owner: DatabaseOwner;
  version: number;
  journal: string;
  /** `PRAGMA quick_check`'s findings (["ok"] when sound), or the error it ended with. */
  quickCheck: string[] | Error;
}

/** Whose file it is, its schema version, journal mode and pages, read through a read-only connection. */
export function inspectSqliteFile(path: string): SqliteFileHeader {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const { owner, version } = identifyDatabase(db);
    const journal = String(db.pragma('journal_mode', { simple: true })).toLowerCase();
    let quickCheck: string[] | Error;
    try {
      quickCheck = db.prepare('PRAGMA quick_check').pluck().all() as string[];
    } catch (error) {
      quickCheck = error as Error;
    }
    return { owner, version, journal, quickCheck };
  } finally {
    db.close();
  }
}
