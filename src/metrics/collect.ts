import { callsInFlight, unsettledCalls, type CallCount } from '../store/analyses.js';
import { committedUsd } from '../store/budget.js';
import { HISTOGRAM_BOUNDS, histogram, type HistogramName, type HistogramSeries } from '../store/metrics.js';
import type { Db } from '../store/open.js';
import { activePauses, latestRateLimits, type Pause, type RateLimitRow } from '../store/rate-limits.js';
import { oldestDueAt } from '../store/stats.js';
import type { EventStatus } from '../store/types.js';
import { listWorkers, type WorkerRecord } from '../store/workers.js';

/** A daily spend limit: `all` for claude.daily_budget_usd, else the repository it belongs to. */
export interface BudgetScope {
  scope: string;
  /** Only this repository's spend counts; undefined: every repository's. */
  repository?: string;
  dailyUsd: number;
}

export interface LedgerRow {
  model: string;
  outcome: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cache_write_tokens: number;
  cache_read_tokens: number;
  cost_usd: number;
}

export interface MetricsSnapshot {
  now: number;
  events: { event: string; status: EventStatus; count: number }[];
  oldestDueAt: number | null;
  /** Settled model calls from the ledger (prompts recorded without being sent, and calls in flight, are left out). */
  ledger: LedgerRow[];
  /** Calls in flight at their worst case, and every call settled at its worst case (orphaned in flight). */
  callsInFlight: CallCount;
  unsettled: CallCount;
  budgets: (BudgetScope & { committedUsd: number })[];
  histograms: Record<HistogramName, HistogramSeries[]>;
  /** The newest reading of each limit whose window has not reset yet (a rotated token's drop out). */
  rateLimits: RateLimitRow[];
  pauses: Pause[];
  /** Workers running, or stopped within the last day (as `hls stats` lists them). */
  workers: WorkerRecord[];
}

/** Everything `hls stats --format prometheus` exports, read in one transaction so the figures agree. */
export function collectMetrics(db: Db, now: number, budgets: BudgetScope[]): MetricsSnapshot {
  return db.transaction(() => {
    const day = new Date(now).toISOString().slice(0, 10);
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
        .all() as LedgerRow[],
      callsInFlight: callsInFlight(db),
      unsettled: unsettledCalls(db, 0),
      budgets: budgets.map((b) => ({ ...b, committedUsd: committedUsd(db, day, b.repository) })),
      histograms,
      rateLimits: latestRateLimits(db).filter((r) => r.reset_at === null || r.reset_at > now),
      pauses: activePauses(db, now),
      workers: listWorkers(db, now, 86_400_000),
    };
  })();
}
