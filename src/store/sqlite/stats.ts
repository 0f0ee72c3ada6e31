import { countByStatus, groupCounts, utcDay } from '../status-counts.js';
import type { DailyRow, EventStatus, GroupCounts, StatsSnapshot } from '../types.js';
import { STOPPED_WORKERS_KEPT_MS } from '../worker-state.js';
import { callsInFlight, unsettledCalls } from './analyses.js';
import { committedUsd } from './budget.js';
import type { Db } from './open.js';
import { activePauses, latestRateLimits } from './rate-limits.js';
import { resumedPauses } from './resume.js';
import { statement } from './statements.js';
import { listWorkers } from './workers.js';

/** Reads everything `hls stats` reports, in one read transaction so the figures agree with each other. */
export function readStats(db: Db, now: number, since: number, days: number): StatsSnapshot {
  return db.transaction(() => {
    const byStatus = db.prepare(`SELECT status, count(*) AS n FROM webhook_events GROUP BY status`).all() as {
      status: EventStatus;
      n: number;
    }[];
    const received = db.prepare(`SELECT count(*) AS n FROM webhook_events WHERE created_at >= ?`).get(since) as {
      n: number;
    };
    const finished = db
      .prepare(
        `SELECT status, count(*) AS n FROM webhook_events
          WHERE completed_at >= ? AND status IN ('completed', 'failed', 'skipped') GROUP BY status`,
      )
      .all(since) as { status: 'completed' | 'failed' | 'skipped'; n: number }[];
    const retries = db
      .prepare(`SELECT count(*) AS n FROM event_history WHERE at >= ? AND to_status = 'retry'`)
      .get(since) as { n: number };
    const durations = db
      .prepare(
        `SELECT completed_at - started_at AS ms FROM webhook_events
          WHERE status = 'completed' AND completed_at >= ? AND started_at IS NOT NULL ORDER BY ms`,
      )
      .pluck()
      .all(since) as number[];
    const grouped = (column: string): GroupCounts[] =>
      groupCounts(
        db
          .prepare(
            `SELECT coalesce(${column}, '-') AS name, status, count(*) AS n FROM webhook_events
              WHERE created_at >= ? GROUP BY 1, 2`,
          )
          .all(since) as { name: string; status: EventStatus; n: number }[],
      );
    const daily = db
      .prepare(
        `SELECT date, total_webhooks AS events, completed, failed, skipped, claude_analyses AS analyses,
                github_actions AS actions, tokens, total_cost_usd AS cost_usd
           FROM daily_stats WHERE date >= date(? / 1000, 'unixepoch') ORDER BY date DESC`,
      )
      .all(now - (days - 1) * 86_400_000) as DailyRow[];
    const deferred = db
      .prepare(
        `SELECT count(*) AS n FROM webhook_events WHERE status IN ('pending', 'retry') AND wait_reason LIKE 'daily budget exhausted%'`,
      )
      .get() as { n: number };
    return {
      now,
      budgetCommittedToday: committedUsd(db, utcDay(now)),
      budgetDeferred: deferred.n,
      workers: listWorkers(db, now, STOPPED_WORKERS_KEPT_MS),
      rateLimits: latestRateLimits(db),
      pauses: activePauses(db, now),
      resumedPauses: resumedPauses(db, since),
      callsInFlight: callsInFlight(db),
      unsettledToday: unsettledCalls(db, Date.parse(new Date(now).toISOString().slice(0, 10))),
      queue: countByStatus(byStatus),
      oldestDueAt: oldestDueAt(db, now),
      receivedInWindow: received.n,
      finishedInWindow: {
        completed: finished.find((row) => row.status === 'completed')?.n ?? 0,
        failed: finished.find((row) => row.status === 'failed')?.n ?? 0,
        skipped: finished.find((row) => row.status === 'skipped')?.n ?? 0,
      },
      retriesInWindow: retries.n,
      processingMs: durations,
      byEvent: grouped('event_type'),
      byRepository: grouped('repository'),
      daily,
    };
  })();
}

/** When the event that has waited longest since it became due was due; null when none waits. */
export function oldestDueAt(db: Db, now: number): number | null {
  return (
    statement(
      db,
      `SELECT min(scheduled_at) AS at FROM webhook_events WHERE status IN ('pending', 'retry') AND scheduled_at <= ?`,
    ).get(now) as { at: number | null }
  ).at;
}
