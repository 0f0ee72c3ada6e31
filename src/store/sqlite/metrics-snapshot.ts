import {
  HISTOGRAM_BOUNDS,
  type BudgetScope,
  type HistogramName,
  type HistogramSeries,
  type MetricsSnapshot,
} from '../types.js';
import { utcDay } from '../status-counts.js';
import { STOPPED_WORKERS_KEPT_MS } from '../worker-state.js';
import { callsInFlight, unsettledCalls } from './analyses.js';
import { committedUsd } from './budget.js';
import { histogram } from './metrics.js';
import type { Db } from './open.js';
import { activePauses, latestRateLimits } from './rate-limits.js';
import { oldestDueAt } from './stats.js';
import { listWorkers } from './workers.js';

/** Everything `hls stats --format prometheus` exports, read in one transaction so the figures agree. */
export function collectMetrics(db: Db, now: number, budgets: BudgetScope[]): MetricsSnapshot {
  return db.transaction(() => {
    const day = utcDay(now);
    const histograms = Object.fromEntries(
      (Object.keys(HISTOGRAM_BOUNDS) as HistogramName[]).map((name) => [name, histogram(db, name)]),
    ) as Record<HistogramName, HistogramSeries[]>;
    return {
      now,
      events: db
        .prepare(
          `SELECT event_type AS event, status, count(*) AS count FROM webhook_events GROUP BY 1, 2 ORDER BY 1, 2`,
        )
        .all() as MetricsSnapshot['events'],
      oldestDueAt: oldestDueAt(db, now),
      ledger: db
        .prepare(
          `SELECT coalesce(model, 'unknown') AS model, outcome, count(*) AS requests,
                  sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
                  sum(cache_write_tokens) AS cache_write_tokens, sum(cache_read_tokens) AS cache_read_tokens,
                  sum(claude_cost_usd) AS cost_usd
             FROM claude_analyses WHERE outcome NOT IN ('not_sent', 'sent') GROUP BY 1, 2 ORDER BY 1, 2`,
        )
        .all() as MetricsSnapshot['ledger'],
      callsInFlight: callsInFlight(db),
      unsettled: unsettledCalls(db, 0),
      budgets: budgets.map((b) => ({ ...b, committedUsd: committedUsd(db, day, b.repository) })),
      histograms,
      rateLimits: latestRateLimits(db).filter((r) => r.reset_at === null || r.reset_at > now),
      pauses: activePauses(db, now),
      workers: listWorkers(db, now, STOPPED_WORKERS_KEPT_MS),
    };
  })();
}
