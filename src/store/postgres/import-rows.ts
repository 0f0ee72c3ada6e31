import postgres from 'postgres';
import { describeTarget } from '../open-store.js';
import {
  comparable,
  COPY_TABLES,
  ID_HEADROOM,
  keyColumns,
  rowFacts,
  rowKey,
  withoutNul,
  type CopyRow,
  type CopyTable,
  type RowFacts,
  type RowTarget,
  type RowWriter,
} from '../copy-tables.js';
import { type Db, type Sql, type Transaction } from './connect.js';
import { asStoreError } from './errors.js';
import { parsedTarget } from './index.js';
import { migrate } from './migrate.js';

/** PostgreSQL takes at most 65,535 parameters per statement; bytes are sent in chunks of about this size. */
const MAX_PARAMETERS = 60_000;
const MAX_ROWS = 500;
const MAX_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * The PostgreSQL database at `url` as a copy's target, brought to the current schema first (as a worker
 * would: a foreign database is refused and left untouched; a missing one is DatabaseMissingError).
 */
export async function openPostgresImport(url: string): Promise<RowTarget> {
  const location = describeTarget(url);
  const target = parsedTarget(url, { maxConnections: 1 }, location);
  const sql: Sql = postgres(target.url, target.options);
  const translated = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      // The source's errors pass through the copy's transaction: they are not this database's.
      if (String((error as { code?: unknown } | null)?.code).startsWith('SQLITE_')) throw error;
      throw asStoreError(error, location);
    }
  };
  await translated(() => migrate(sql, location)).catch(async (error: unknown) => {
    await sql.end({ timeout: 0 });
    throw error;
  });
  return {
    location,
    columns: () => translated(() => tableColumns(sql)),
    rowCount: () =>
      translated(async () => {
        const [row] = await sql.unsafe<{ n: number }[]>(
          `SELECT ${COPY_TABLES.map((table) => `(SELECT count(*) FROM ${identifier(table.name)})`).join(' + ')} AS n`,
        );
        return Number(row!.n);
      }),
    write: (copy) =>
      translated(() =>
        sql.begin(async (tx) => {
          const copiedMax = new Map<CopyTable, number>();
          await copy(writer(tx, copiedMax));
          for (const [table, max] of copiedMax) await passSequence(tx, table, max);
        }),
      ).then(() => undefined),
    facts: (table, columns) => translated(() => targetFacts(sql, table, columns)),
    close: () => sql.end({ timeout: 0 }),
  };
}

function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function tableColumns(sql: Db): Promise<Map<string, string[]>> {
  const rows = await sql<{ table_name: string; column_name: string }[]>`
    SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = current_schema()
     ORDER BY table_name, ordinal_position`;
  const tables = new Map<string, string[]>();
  for (const row of rows) tables.set(row.table_name, [...(tables.get(row.table_name) ?? []), row.column_name]);
  return tables;
}

function writer(tx: Transaction, copiedMax: Map<CopyTable, number>): RowWriter {
  return {
    async keys(table, columns) {
      const keys = new Map<string, number>();
      const rows = await tx.unsafe<CopyRow[]>(
        `SELECT ${keyColumns(table, columns).map(identifier).join(', ')} FROM ${identifier(table.name)}`,
      );
      for (const row of rows) {
        const key = rowKey(table, columns, row);
        keys.set(key, (keys.get(key) ?? 0) + 1);
      }
      return keys;
    },
    async insert(table, columns, rows) {
      let inserted = 0;
      for (const chunk of chunks(rows, columns.length)) {
        const values = chunk.map((row) =>
          Object.fromEntries(columns.map((c) => [c, typeof row[c] === 'string' ? withoutNul(row[c]) : row[c]])),
        );
        const returned = await tx<{ id?: number }[]>`
          INSERT INTO ${tx(table.name)} ${tx(values, ...columns)} ON CONFLICT DO NOTHING
          RETURNING ${table.generatedId ? tx`id` : tx`1 AS inserted`}`;
        inserted += returned.length;
        if (!table.generatedId || returned.length === 0) continue;
        const ids = returned.map((row) => row.id!);
        copiedMax.set(table, Math.max(copiedMax.get(table) ?? 0, ...ids));
        // The insert trigger recorded each event's arrival again: the copied history replaces it.
        if (table.name === 'webhook_events') {
          await tx`DELETE FROM event_history WHERE event_id IN ${tx(ids)}`;
        }
      }
      return inserted;
    },
  };
}

/** Rows in inserts of at most MAX_ROWS rows, MAX_PARAMETERS parameters and about MAX_CHUNK_BYTES. */
function* chunks(rows: CopyRow[], columns: number): Iterable<CopyRow[]> {
  const maxRows = Math.min(MAX_ROWS, Math.floor(MAX_PARAMETERS / columns));
  let chunk: CopyRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = Object.values(row).reduce<number>(
      (sum, value) => sum + (typeof value === 'string' || Buffer.isBuffer(value) ? value.length : 8),
      0,
    );
    if (chunk.length > 0 && (chunk.length >= maxRows || bytes + size > MAX_CHUNK_BYTES)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(row);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/** The table's next generated id comes ID_HEADROOM past the copied ones, never earlier than it already was. */
async function passSequence(tx: Transaction, table: CopyTable, copiedMax: number): Promise<void> {
  await tx`
    SELECT setval(seq, greatest(coalesce(pg_sequence_last_value(seq), 0), ${copiedMax + ID_HEADROOM}::bigint))
      FROM (SELECT pg_get_serial_sequence(${table.name}, 'id')::regclass AS seq) AS s`;
}

/** The target's rows as rowFacts, their bytes hashed by the server. */
async function targetFacts(sql: Sql, table: CopyTable, columns: readonly string[]): Promise<Map<string, RowFacts[]>> {
  const select = columns
    .map((column) =>
      table.bytes?.includes(column)
        ? `encode(sha256(${identifier(column)}), 'hex') AS ${identifier(column)}`
        : identifier(column),
    )
    .join(', ');
  const facts = new Map<string, RowFacts[]>();
  const cursor = sql.unsafe<CopyRow[]>(`SELECT ${select} FROM ${identifier(table.name)}`).cursor(2000);
  for await (const rows of cursor) {
    for (const row of rows) {
      const fact = rowFacts(table, columns, comparable(table, row));
      facts.set(fact.key, [...(facts.get(fact.key) ?? []), fact]);
    }
  }
  return facts;
}
