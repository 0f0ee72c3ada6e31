import {
  comparable,
  COPY_TABLES,
  rowFacts,
  TableTally,
  type CopyRow,
  type CopyTable,
  type RowFacts,
  type RowSource,
  type RowTarget,
  type TableChecksums,
} from './copy-tables.js';
import { DatabaseRefusedError } from './errors.js';

export interface TableReport {
  table: string;
  /** Rows inserted by this run. */
  copied: number;
  source: TableChecksums;
  /** The target's rows with the source's keys, in the source's order. */
  target: TableChecksums;
  /** Source rows the target lacks. */
  missing: number;
  /** Source rows whose key the target has with other values. */
  changed: number;
  /** Target rows whose key the source lacks (queued into the target after the switch, or stray). */
  target_only: number;
  match: boolean;
}

export interface CopyReport {
  tables: TableReport[];
  match: boolean;
}

export interface CopyOptions {
  /** Copy only the rows whose key the target lacks; without it the target must be empty. */
  resume: boolean;
  onProgress?: (table: string, done: number, total: number) => void;
}

/**
 * Copies every table of `source` (one snapshot) into `target` (one transaction), then reads the target
 * back and compares both sides row by row and by checksum.
 */
export async function copyDatabase(source: RowSource, target: RowTarget, options: CopyOptions): Promise<CopyReport> {
  const columns = checkedColumns(source.columns(), await target.columns(), target.location);
  if (!options.resume) {
    const rows = await target.rowCount();
    if (rows > 0) {
      throw new DatabaseRefusedError(
        `${target.location} already holds ${rows} rows: copy into a new, empty database, or pass --resume to copy ` +
          `only the rows it lacks`,
      );
    }
  }
  const sourceFacts = new Map<CopyTable, RowFacts[]>();
  const copied = new Map<CopyTable, number>();
  await target.write(async (writer) => {
    for (const table of COPY_TABLES) {
      const tableColumns = columns.get(table.name)!;
      const present = options.resume ? await writer.keys(table, tableColumns) : new Map<string, number>();
      const total = options.onProgress ? source.count(table) : 0;
      const facts: RowFacts[] = [];
      let inserted = 0;
      for (const batch of source.batches(table)) {
        const lacking: CopyRow[] = [];
        for (const row of batch) {
          const fact = rowFacts(table, tableColumns, comparable(table, row));
          facts.push(fact);
          const copies = present.get(fact.key) ?? 0;
          if (copies > 0) present.set(fact.key, copies - 1);
          else lacking.push(row);
        }
        if (lacking.length > 0) inserted += await writer.insert(table, tableColumns, lacking);
        options.onProgress?.(table.name, facts.length, total);
      }
      sourceFacts.set(table, facts);
      copied.set(table, inserted);
    }
  });
  const tables: TableReport[] = [];
  for (const table of COPY_TABLES) {
    const targetFacts = await target.facts(table, columns.get(table.name)!);
    tables.push(compare(table, sourceFacts.get(table)!, targetFacts, copied.get(table)!));
  }
  return { tables, match: tables.every((table) => table.match) };
}

/** Every table of the source is one hls copies, and every column of it is in the target. */
function checkedColumns(
  source: Map<string, string[]>,
  target: Map<string, string[]>,
  targetLocation: string,
): Map<string, string[]> {
  const known = new Set(COPY_TABLES.map((table) => table.name));
  const unknown = [...source.keys()].filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new DatabaseRefusedError(
      `the source has tables hls does not copy (${unknown.join(', ')}): it is not a database of this hls version`,
    );
  }
  for (const { name } of COPY_TABLES) {
    const columns = source.get(name);
    if (!columns)
      throw new DatabaseRefusedError(`the source has no table ${name}: it is not a database of this hls version`);
    const lacking = columns.filter((column) => !target.get(name)?.includes(column));
    if (lacking.length > 0) {
      throw new DatabaseRefusedError(
        `${targetLocation} has no column ${name}.${lacking.join(`, ${name}.`)}: it is not at this hls's schema`,
      );
    }
  }
  return source;
}

function compare(table: CopyTable, source: RowFacts[], target: Map<string, RowFacts[]>, copied: number): TableReport {
  const sourceTally = new TableTally(table);
  const targetTally = new TableTally(table);
  let missing = 0;
  let changed = 0;
  for (const fact of source) {
    sourceTally.add(fact);
    const same = target.get(fact.key);
    const counterpart = same?.shift();
    if (same?.length === 0) target.delete(fact.key);
    if (!counterpart) {
      missing++;
      continue;
    }
    targetTally.add(counterpart);
    if (counterpart.digest !== fact.digest) changed++;
  }
  const sourceSums = sourceTally.result();
  const targetSums = targetTally.result();
  const targetOnly = [...target.values()].reduce((sum, rows) => sum + rows.length, 0);
  return {
    table: table.name,
    copied,
    source: sourceSums,
    target: targetSums,
    missing,
    changed,
    target_only: targetOnly,
    match:
      missing === 0 &&
      changed === 0 &&
      sourceSums.rows === targetSums.rows &&
      sourceSums.rows_sha256 === targetSums.rows_sha256 &&
      sourceSums.payloads_sha256 === targetSums.payloads_sha256 &&
      sourceSums.cost_usd === targetSums.cost_usd,
  };
}
