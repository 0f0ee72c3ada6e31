import { statSync } from 'node:fs';
import type { Db } from './open.js';
import { statement } from './statements.js';
import type { PruneResult } from '../types.js';

/** Finished events (completed or skipped) older than the cutoff; failed ones stay for replay. */
const OLD_FINISHED = `status IN ('completed', 'skipped') AND completed_at < @cutoff`;
/** Rows the ledger or the budget refer to are kept (only their payload goes). */
const UNREFERENCED = `NOT EXISTS (SELECT 1 FROM claude_analyses a WHERE a.webhook_id = webhook_events.id)
  AND NOT EXISTS (SELECT 1 FROM budget_reservations b WHERE b.event_id = webhook_events.id)`;

const OLD_READINGS = `observed_at < @cutoff AND id NOT IN
  (SELECT max(id) FROM rate_limit_history GROUP BY api, key_sha256, resource)`;

/** What a prune would do, without doing it. */
export function planPrune(db: Db, cutoff: number, deleteRows: boolean): PruneResult {
  const payloads = statement(
    db,
    `SELECT count(*) AS n, coalesce(sum(payload_size), 0) AS bytes FROM webhook_events
      WHERE ${OLD_FINISHED} AND payload IS NOT NULL`,
  ).get({ cutoff }) as { n: number; bytes: number };
  const rows = deleteRows
    ? (statement(db, `SELECT count(*) AS n FROM webhook_events WHERE ${OLD_FINISHED} AND ${UNREFERENCED}`).get({
        cutoff,
      }) as {
        n: number;
      })
    : { n: 0 };
  const readings = statement(db, `SELECT count(*) AS n FROM rate_limit_history WHERE ${OLD_READINGS}`).get({
    cutoff,
  }) as { n: number };
  return {
    payloadsDropped: payloads.n,
    bytesDropped: payloads.bytes,
    rowsDeleted: rows.n,
    readingsDeleted: readings.n,
  };
}

/**
 * Drops the payloads of old finished events and, with `deleteRows`, the rows no ledger entry refers to,
 * counting them in pruned_events first so that daily_stats does not change; and old rate-limit history.
 * One transaction.
 */
export function prune(db: Db, cutoff: number, deleteRows: boolean): PruneResult {
  return db
    .transaction((): PruneResult => {
      const planned = planPrune(db, cutoff, deleteRows);
      statement(db, `UPDATE webhook_events SET payload = NULL WHERE ${OLD_FINISHED} AND payload IS NOT NULL`).run({
        cutoff,
      });
      if (deleteRows) {
        statement(
          db,
          `INSERT INTO pruned_events (date, status, events)
           SELECT date(created_at / 1000, 'unixepoch'), status, count(*) FROM webhook_events
            WHERE ${OLD_FINISHED} AND ${UNREFERENCED} GROUP BY 1, 2
           ON CONFLICT (date, status) DO UPDATE SET events = events + excluded.events`,
        ).run({ cutoff });
        statement(db, `DELETE FROM webhook_events WHERE ${OLD_FINISHED} AND ${UNREFERENCED}`).run({ cutoff });
      }
      statement(db, `DELETE FROM rate_limit_history WHERE ${OLD_READINGS}`).run({ cutoff });
      return planned;
    })
    .immediate();
}

/** Moves the WAL into the file and gives free pages back to the file system. */
export function reclaimSpace(db: Db): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma('incremental_vacuum');
  db.pragma('wal_checkpoint(TRUNCATE)');
}

/** The file and its WAL. */
export function fileBytes(path: string): number {
  const size = (suffix: string) => {
    try {
      return statSync(path + suffix).size;
    } catch {
      return 0;
    }
  };
  return size('') + size('-wal');
}
