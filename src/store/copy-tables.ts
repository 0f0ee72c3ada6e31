import { createHash } from 'node:crypto';

/**
 * What `hls db copy` moves, backend-neutral: every table of the schema (the same on both backends, column
 * by column), in an order that inserts a row after the rows it refers to, with the key that tells whether
 * a row is already in the target. The columns themselves are read from the source and must all exist
 * in the target.
 */
export interface CopyTable {
  name: string;
  /** The primary key; a table without one (github_writes) is keyed by all its columns. */
  key: string[] | 'all';
  /** An `id` the database generates (an identity on PostgreSQL), whose sequence must pass the copied ids. */
  generatedId?: boolean;
  /** Raw bytes (bytea / BLOB): compared by their sha256. */
  bytes?: string[];
}

export const COPY_TABLES: readonly CopyTable[] = [
  { name: 'webhook_events', key: ['id'], generatedId: true, bytes: ['payload'] },
  { name: 'event_history', key: ['id'], generatedId: true },
  { name: 'claude_analyses', key: ['id'], generatedId: true },
  { name: 'budget_reservations', key: ['id'], generatedId: true },
  { name: 'thread_comments', key: ['thread_key'] },
  { name: 'label_cache', key: ['repository'] },
  { name: 'token_identity', key: ['token_sha256'] },
  { name: 'pruned_events', key: ['date', 'status'] },
  { name: 'workers', key: ['id'] },
  { name: 'rate_limit_history', key: ['id'], generatedId: true },
  { name: 'api_pauses', key: ['scope'] },
  { name: 'api_pause_history', key: ['id'], generatedId: true },
  { name: 'github_writes', key: 'all' },
  { name: 'metric_buckets', key: ['metric', 'labels', 'bucket'] },
  { name: 'metric_totals', key: ['metric', 'labels'] },
  { name: 'thread_settings', key: ['thread_key'] },
  { name: 'similar_threads', key: ['id'], generatedId: true },
  { name: 'similar_terms', key: ['repository', 'term'] },
  { name: 'similar_corpus', key: ['repository'] },
  { name: 'similar_backfill', key: ['repository'] },
  { name: 'repository_files', key: ['repository', 'path'] },
];

/** SQLite's full-text index (a virtual table and its shadow tables): PostgreSQL builds its own from the rows. */
export const FULL_TEXT_INDEX = 'similar_threads_fts';

export function isFullTextIndexTable(name: string): boolean {
  return name === FULL_TEXT_INDEX || name.startsWith(`${FULL_TEXT_INDEX}_`);
}

/** The ledger: its cost column is summed on both sides. */
export const LEDGER_TABLE = 'claude_analyses';
export const LEDGER_COST = 'claude_cost_usd';
/** The events: (id, payload sha256) in id order is hashed on both sides. */
export const EVENTS_TABLE = 'webhook_events';

/**
 * The first id PostgreSQL generates after a copy is at least this far past the highest copied one, so
 * that the events the relay still queues into the SQLite file during the cut-over keep their ids when
 * `--resume` copies them, while the relay already queues into PostgreSQL.
 */
export const ID_HEADROOM = 1_000_000;

export type CopyValue = string | number | Buffer | null;
export type CopyRow = Record<string, CopyValue>;

/** PostgreSQL text cannot hold U+0000: it is stored as U+FFFD (as the PostgreSQL store does everywhere). */
export function withoutNul(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A row as both sides can state it: bytes as their sha256 (the target computes it in SQL, so the payloads
 * are never read back), text as PostgreSQL stores it.
 */
export function comparable(table: CopyTable, row: CopyRow): CopyRow {
  const result: CopyRow = {};
  for (const [column, value] of Object.entries(row)) {
    if (table.bytes?.includes(column) && value !== null && typeof value !== 'string') {
      result[column] = sha256Hex(value as Buffer);
    } else {
      result[column] = typeof value === 'string' ? withoutNul(value) : value;
    }
  }
  return result;
}

/** What the comparison keeps of one comparable row. */
export interface RowFacts {
  key: string;
  /** sha256 over every column's value, in the source's column order. */
  digest: string;
  /** webhook_events: `id<TAB>payload sha256`. */
  payloadEntry?: string;
  cost?: number;
}

export function keyColumns(table: CopyTable, columns: readonly string[]): readonly string[] {
  return table.key === 'all' ? columns : table.key;
}

/** The row's key as a string that is equal for equal keys on both sides. */
export function rowKey(table: CopyTable, columns: readonly string[], row: CopyRow): string {
  return JSON.stringify(keyColumns(table, columns).map((column) => row[column]));
}

export function rowFacts(table: CopyTable, columns: readonly string[], row: CopyRow): RowFacts {
  const facts: RowFacts = {
    key: rowKey(table, columns, row),
    digest: sha256Hex(JSON.stringify(columns.map((column) => row[column] ?? null))),
  };
  if (table.name === EVENTS_TABLE) facts.payloadEntry = `${row.id}\t${row.payload ?? ''}`;
  if (table.name === LEDGER_TABLE) facts.cost = row[LEDGER_COST] as number;
  return facts;
}

/** The checksums of one side of one table, over its rows in the source's order. */
export class TableTally {
  rows = 0;
  private readonly rowsHash = createHash('sha256');
  private readonly payloadsHash = createHash('sha256');
  private costSum = 0;

  constructor(readonly table: CopyTable) {}

  add(facts: RowFacts): void {
    this.rows++;
    this.rowsHash.update(`${facts.digest}\n`);
    if (this.table.name === EVENTS_TABLE) this.payloadsHash.update(`${facts.payloadEntry}\n`);
    if (this.table.name === LEDGER_TABLE) this.costSum += facts.cost ?? 0;
  }

  result(): TableChecksums {
    return {
      rows: this.rows,
      rows_sha256: this.rowsHash.digest('hex'),
      ...(this.table.name === EVENTS_TABLE ? { payloads_sha256: this.payloadsHash.digest('hex') } : {}),
      ...(this.table.name === LEDGER_TABLE ? { cost_usd: this.costSum } : {}),
    };
  }
}

export interface TableChecksums {
  rows: number;
  /** sha256 over the rows' digests (every column; bytes by their sha256). */
  rows_sha256: string;
  /** webhook_events: sha256 over the (id, payload sha256) list in id order. */
  payloads_sha256?: string;
  /** claude_analyses: the ledger's cost sum. */
  cost_usd?: number;
}

/** Reading side of a copy: one consistent snapshot of the source. */
export interface RowSource {
  location: string;
  /** The tables of the source, each with its columns in order. */
  columns(): Map<string, string[]>;
  count(table: CopyTable): number;
  /** The rows in the table's storage (rowid) order, in batches. */
  batches(table: CopyTable): Iterable<CopyRow[]>;
  close(): void;
}

/** Writing side of a copy, inside one transaction of the target. */
export interface RowWriter {
  /** The keys (rowFacts' key) already in the target, each with how many rows have it. */
  keys(table: CopyTable, columns: readonly string[]): Promise<Map<string, number>>;
  /** Inserts the rows as they are (ids included); returns how many were inserted. */
  insert(table: CopyTable, columns: readonly string[], rows: CopyRow[]): Promise<number>;
}

export interface RowTarget {
  location: string;
  columns(): Promise<Map<string, string[]>>;
  /** Rows in all the copied tables together. */
  rowCount(): Promise<number>;
  /** Runs `copy` in one transaction, then moves the id sequences past the copied ids. */
  write(copy: (writer: RowWriter) => Promise<void>): Promise<void>;
  /** Every row's facts, by key, for the comparison. */
  facts(table: CopyTable, columns: readonly string[]): Promise<Map<string, RowFacts[]>>;
  close(): Promise<void>;
}
