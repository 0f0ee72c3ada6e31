import { isFullTextIndexTable, type CopyRow, type CopyTable, type RowSource } from '../copy-tables.js';
import { openDatabase } from './open.js';

const BATCH_ROWS = 256;

/**
 * The hls SQLite file at `path` as a copy's source: opened as the read commands open it (never created
 * or migrated; a foreign, older or corrupt file is refused), and read in one read transaction, so that
 * in WAL mode every table comes from one snapshot while `hls queue` keeps writing to the file.
 */
export function openSqliteSnapshot(path: string): RowSource {
  const db = openDatabase(path);
  try {
    db.exec('BEGIN');
    // A deferred transaction takes its snapshot at its first read.
    db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get();
  } catch (error) {
    db.close();
    throw error;
  }
  return {
    location: path,
    columns() {
      const tables = db
        .prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
        .pluck()
        .all() as string[];
      return new Map(
        tables
          .filter((table) => !isFullTextIndexTable(table))
          .map((table) => [
            table,
            (db.prepare('SELECT name FROM pragma_table_info(?) ORDER BY cid').pluck().all(table) as string[]).map(
              String,
            ),
          ]),
      );
    },
    count(table) {
      return db.prepare(`SELECT count(*) FROM "${table.name}"`).pluck().get() as number;
    },
    *batches(table: CopyTable) {
      const page = db.prepare(
        `SELECT rowid AS hls_rowid, * FROM "${table.name}" WHERE rowid > ? ORDER BY rowid LIMIT ?`,
      );
      let after = -Infinity;
      for (;;) {
        const rows = page.all(after, BATCH_ROWS) as (CopyRow & { hls_rowid: number })[];
        if (rows.length === 0) return;
        after = rows.at(-1)!.hls_rowid;
        yield rows.map(({ hls_rowid: _rowid, ...row }) => asBytes(table, row));
      }
    },
    close() {
      if (db.inTransaction) db.exec('COMMIT');
      db.close();
    },
  };
}

/** A payload stored as TEXT (never by hls, but SQLite allows it) is copied as its UTF-8 bytes. */
function asBytes(table: CopyTable, row: CopyRow): CopyRow {
  for (const column of table.bytes ?? []) {
    const value = row[column];
    if (typeof value === 'string' || typeof value === 'number') row[column] = Buffer.from(String(value), 'utf8');
  }
  return row;
}
