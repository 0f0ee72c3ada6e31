import { statSync } from 'node:fs';
import { planPrune, prune, reclaimSpace, type PruneResult } from '../store/prune.js';
import { commandContext, openForCommand, type GlobalOptions } from './context.js';
import { printJson, printLines } from './format.js';

export interface PruneFlags extends GlobalOptions {
  /** Milliseconds. */
  olderThan?: number;
  deleteRows?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/**
 * `hls prune`: drops the stored bodies of completed and skipped events past retention (and, with
 * --delete-rows or prune.delete_rows, the rows themselves), keeps the ledger and daily totals exact,
 * then checkpoints the WAL and returns free pages to the file system.
 */
export function runPrune(flags: PruneFlags): number {
  const { config, dbPath } = commandContext(flags);
  const olderThanMs = flags.olderThan ?? config.prune.older_than_days * 86_400_000;
  const deleteRows = flags.deleteRows ?? config.prune.delete_rows;
  const cutoff = Date.now() - olderThanMs;
  const db = openForCommand(dbPath);
  const before = fileBytes(dbPath);
  let result: PruneResult;
  try {
    result = flags.dryRun ? planPrune(db, cutoff, deleteRows) : prune(db, cutoff, deleteRows);
    if (!flags.dryRun) reclaimSpace(db);
  } finally {
    db.close();
  }
  const after = fileBytes(dbPath);
  const report = {
    dry_run: Boolean(flags.dryRun),
    cutoff: new Date(cutoff).toISOString(),
    payloads_dropped: result.payloadsDropped,
    payload_bytes: result.bytesDropped,
    rows_deleted: result.rowsDeleted,
    rate_limit_readings_deleted: result.readingsDeleted,
    file_bytes_before: before,
    file_bytes_after: after,
  };
  if (flags.json) {
    printJson(report);
  } else {
    const verb = flags.dryRun ? 'would drop' : 'dropped';
    printLines([
      `${verb} ${result.payloadsDropped} payload(s) (${mib(result.bytesDropped)}) of events finished before ${report.cutoff}`,
      `${flags.dryRun ? 'would delete' : 'deleted'} ${result.rowsDeleted} row(s)${deleteRows ? '' : ' (rows are kept: --delete-rows or prune.delete_rows)'}`,
      `${flags.dryRun ? 'would delete' : 'deleted'} ${result.readingsDeleted} rate-limit reading(s) (the newest of each limit is kept)`,
      `database ${dbPath}: ${mib(before)} → ${mib(after)}`,
    ]);
  }
  return 0;
}

function fileBytes(path: string): number {
  const size = (suffix: string) => {
    try {
      return statSync(path + suffix).size;
    } catch {
      return 0;
    }
  };
  return size('') + size('-wal');
}

function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(2)} MiB`;
}
