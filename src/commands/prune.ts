import { commandContext, describeTarget, withStore, type GlobalOptions } from './command-context.js';
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
 * then gives the freed space back (SQLite: WAL checkpoint and free pages; PostgreSQL: VACUUM).
 */
export async function runPrune(flags: PruneFlags): Promise<number> {
  const { config, database } = commandContext(flags);
  const olderThanMs = flags.olderThan ?? config.prune.older_than_days * 86_400_000;
  const deleteRows = flags.deleteRows ?? config.prune.delete_rows;
  const { cutoff, result, before, after } = await withStore(database, async (store) => {
    const cutoff = store.clock() - olderThanMs;
    const before = await store.admin.sizeBytes();
    const result = flags.dryRun
      ? await store.admin.planPrune(cutoff, deleteRows)
      : await store.admin.prune(cutoff, deleteRows);
    if (!flags.dryRun) await store.admin.reclaimSpace();
    return { cutoff, result, before, after: await store.admin.sizeBytes() };
  });
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
      `database ${describeTarget(database)}: ${mib(before)} → ${mib(after)}`,
    ]);
  }
  return 0;
}

function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(2)} MiB`;
}
