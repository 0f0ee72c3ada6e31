import type { AdminStore } from '../store.js';
import { countByStatus, firstDayOfWindow, groupCounts, utcDay } from '../status-counts.js';
import {
  HISTOGRAM_BOUNDS,
  type DailyRow,
  type EventStatus,
  type HistogramName,
  type HistogramSeries,
  type LedgerRow,
  type MetricsSnapshot,
  type PruneResult,
  type ReportSnapshot,
  type ResumedPause,
  type StatsSnapshot,
} from '../types.js';
import { STOPPED_WORKERS_KEPT_MS } from '../worker-state.js';
import type { Db, Sql } from './connect.js';
import { callsInFlight, committedUsd, unsettledCalls } from './ledger.js';
import { activePauses, histogram, latestRateLimits } from './limits.js';
import { listWorkers } from './workers.js';

/** The tables that hold nearly all the bytes, vacuumed after a prune. */
const BIG_TABLES = 'webhook_events, event_history, claude_analyses, rate_limit_history, github_writes';

export function postgresAdmin(sql: Sql): AdminStore {
  /** One snapshot, so that the figures read in it agree with each other. */
  const snapshot = <T>(read: (tx: Db, now: number) => Promise<T>): Promise<T> =>
    sql.begin('isolation level repeatable read read only', async (tx) => {
      const [clock] = await tx<{ now: number }[]>`SELECT hls_now_ms() AS now`;
      return read(tx, clock!.now);
    }) as Promise<T>;

  return {
    readStats: (since, days) => snapshot((tx, now) => readStats(tx, now, since, days)),

    readReport: (days) =>
      snapshot(async (tx, now): Promise<ReportSnapshot> => {
        const since = firstDayOfWindow(now, days);
        return {
          stats: await readStats(tx, now, since, days),
          firstDay: utcDay(since),
          reasons: [
            ...(await tx<ReportSnapshot['reasons']>`
              SELECT hls_utc_day(created_at) AS date, status,
                     CASE status WHEN 'skipped' THEN coalesce(skip_reason, 'no reason recorded')
                                 ELSE coalesce(error_message, error_class, 'no error recorded') END AS reason,
                     count(*) AS n
                FROM webhook_events WHERE created_at >= ${since} AND status IN ('skipped', 'failed')
               GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`),
          ],
          spend: [
            ...(await tx<ReportSnapshot['spend']>`
              SELECT hls_utc_day(created_at) AS date, coalesce(model, 'unknown') AS model,
                     coalesce(repository, '-') AS repository, sum(claude_cost_usd) AS cost_usd,
                     count(*) FILTER (WHERE outcome <> 'not_sent') AS calls
                FROM claude_analyses WHERE created_at >= ${since}
               GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`),
          ],
          durations: [
            ...(await tx<ReportSnapshot['durations']>`
              SELECT hls_utc_day(completed_at) AS date, completed_at - started_at AS ms FROM webhook_events
               WHERE status = 'completed' AND completed_at >= ${since} AND started_at IS NOT NULL ORDER BY 1, 2`),
          ],
        };
      }),

    collectMetrics: (budgets) =>
      snapshot(async (tx, now): Promise<MetricsSnapshot> => {
        const day = utcDay(now);
        const histograms = {} as Record<HistogramName, HistogramSeries[]>;
        for (const name of Object.keys(HISTOGRAM_BOUNDS) as HistogramName[])
          histograms[name] = await histogram(tx, name);
        const budgetRows = [];
        for (const b of budgets) budgetRows.push({ ...b, committedUsd: await committedUsd(tx, day, b.repository) });
        return {
          now,
          events: [
            ...(await tx<MetricsSnapshot['events']>`
              SELECT event_type AS event, status, count(*) AS count FROM webhook_events
               GROUP BY 1, 2 ORDER BY event_type COLLATE "C", status COLLATE "C"`),
          ],
          oldestDueAt: await oldestDueAt(tx, now),
          ledger: [
            ...(await tx<LedgerRow[]>`
              SELECT coalesce(model, 'unknown') AS model, outcome, count(*) AS requests,
                     sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
                     sum(cache_write_tokens) AS cache_write_tokens, sum(cache_read_tokens) AS cache_read_tokens,
                     sum(claude_cost_usd) AS cost_usd
                FROM claude_analyses WHERE outcome NOT IN ('not_sent', 'sent')
               GROUP BY 1, 2 ORDER BY coalesce(model, 'unknown') COLLATE "C", outcome COLLATE "C"`),
          ],
          callsInFlight: await callsInFlight(tx),
          unsettled: await unsettledCalls(tx, 0),
          budgets: budgetRows,
          histograms,
          rateLimits: (await latestRateLimits(tx)).filter((r) => r.reset_at === null || r.reset_at > now),
          pauses: await activePauses(tx, now),
          workers: await listWorkers(tx, now, STOPPED_WORKERS_KEPT_MS),
        };
      }),

    planPrune: (cutoff, deleteRows) => planPrune(sql, cutoff, deleteRows),

    /**
     * Drops the payloads of old finished events and, with `deleteRows`, the rows no ledger entry refers
     * to, counting them in pruned_events first so that daily_stats does not change; and old rate-limit
     * history. One transaction.
     */
    prune: (cutoff, deleteRows) =>
      sql.begin(async (tx) => {
        const planned = await planPrune(tx, cutoff, deleteRows);
        await tx`UPDATE webhook_events SET payload = NULL WHERE ${oldFinished(tx, cutoff)} AND payload IS NOT NULL`;
        if (deleteRows) {
          await tx`
            INSERT INTO pruned_events (date, status, events)
            SELECT hls_utc_day(created_at), status, count(*) FROM webhook_events
             WHERE ${oldFinished(tx, cutoff)} AND ${unreferenced(tx)} GROUP BY 1, 2
            ON CONFLICT (date, status) DO UPDATE SET events = pruned_events.events + excluded.events`;
          await tx`DELETE FROM webhook_events WHERE ${oldFinished(tx, cutoff)} AND ${unreferenced(tx)}`;
        }
        await tx`DELETE FROM rate_limit_history WHERE ${oldReadings(tx, cutoff)}`;
        return planned;
      }) as Promise<PruneResult>,

    async reclaimSpace() {
      await sql.unsafe(`VACUUM ${BIG_TABLES}`);
    },

    async sizeBytes() {
      const [row] = await sql<{ bytes: number }[]>`SELECT pg_database_size(current_database()) AS bytes`;
      return row!.bytes;
    },
  };
}

/** Finished events (completed or skipped) older than the cutoff; failed ones stay for replay. */
const oldFinished = (db: Db, cutoff: number) => db`status IN ('completed', 'skipped') AND completed_at < ${cutoff}`;

/** Rows the ledger or the budget refer to are kept (only their payload goes). */
const unreferenced = (db: Db) =>
  db`NOT EXISTS (SELECT 1 FROM claude_analyses a WHERE a.webhook_id = webhook_events.id)
     AND NOT EXISTS (SELECT 1 FROM budget_reservations b WHERE b.event_id = webhook_events.id)`;

/** Rate-limit history older than the cutoff, but never the newest reading of a limit. */
const oldReadings = (db: Db, cutoff: number) =>
  db`observed_at < ${cutoff} AND id NOT IN (SELECT max(id) FROM rate_limit_history GROUP BY api, key_sha256, resource)`;

/** What a prune would do, without doing it. */
async function planPrune(db: Db, cutoff: number, deleteRows: boolean): Promise<PruneResult> {
  const [payloads] = await db<{ n: number; bytes: number }[]>`
    SELECT count(*) AS n, coalesce(sum(payload_size), 0) AS bytes FROM webhook_events
     WHERE ${oldFinished(db, cutoff)} AND payload IS NOT NULL`;
  const [rows] = deleteRows
    ? await db<
        { n: number }[]
      >`SELECT count(*) AS n FROM webhook_events WHERE ${oldFinished(db, cutoff)} AND ${unreferenced(db)}`
    : [{ n: 0 }];
  const [readings] = await db<
    { n: number }[]
  >`SELECT count(*) AS n FROM rate_limit_history WHERE ${oldReadings(db, cutoff)}`;
  return {
    payloadsDropped: payloads!.n,
    bytesDropped: payloads!.bytes,
    rowsDeleted: rows!.n,
    readingsDeleted: readings!.n,
  };
}

/** When the event that has waited longest since it became due was due; null when none waits. */
async function oldestDueAt(db: Db, now: number): Promise<number | null> {
  const [row] = await db<{ at: number | null }[]>`
    SELECT min(scheduled_at) AS at FROM webhook_events WHERE status IN ('pending', 'retry') AND scheduled_at <= ${now}`;
  return row!.at;
}

/** Everything `hls stats` reports, read at `now` in the caller's snapshot. */
async function readStats(db: Db, now: number, since: number, days: number): Promise<StatsSnapshot> {
  const byStatus = await db<{ status: EventStatus; n: number }[]>`
    SELECT status, count(*) AS n FROM webhook_events GROUP BY status`;
  const [received] = await db<{ n: number }[]>`SELECT count(*) AS n FROM webhook_events WHERE created_at >= ${since}`;
  const finished = await db<{ status: 'completed' | 'failed' | 'skipped'; n: number }[]>`
    SELECT status, count(*) AS n FROM webhook_events
     WHERE completed_at >= ${since} AND status IN ('completed', 'failed', 'skipped') GROUP BY status`;
  const [retries] = await db<{ n: number }[]>`
    SELECT count(*) AS n FROM event_history WHERE at >= ${since} AND to_status = 'retry'`;
  const durations = await db<{ ms: number }[]>`
    SELECT completed_at - started_at AS ms FROM webhook_events
     WHERE status = 'completed' AND completed_at >= ${since} AND started_at IS NOT NULL ORDER BY ms`;
  const grouped = async (column: 'event_type' | 'repository') =>
    groupCounts(
      await db<{ name: string; status: EventStatus; n: number }[]>`
        SELECT coalesce(${db(column)}, '-') AS name, status, count(*) AS n FROM webhook_events
         WHERE created_at >= ${since} GROUP BY 1, 2`,
    );
  const daily = await db<DailyRow[]>`
    SELECT date, total_webhooks AS events, completed, failed, skipped, claude_analyses AS analyses,
           github_actions AS actions, tokens, total_cost_usd AS cost_usd
      FROM daily_stats WHERE date >= hls_utc_day(${now - (days - 1) * 86_400_000}) ORDER BY date DESC`;
  const [deferred] = await db<{ n: number }[]>`
    SELECT count(*) AS n FROM webhook_events
     WHERE status IN ('pending', 'retry') AND wait_reason LIKE 'daily budget exhausted%'`;
  const today = utcDay(now);
  const finishedCount = (status: 'completed' | 'failed' | 'skipped') =>
    finished.find((row) => row.status === status)?.n ?? 0;
  return {
    now,
    queue: countByStatus(byStatus),
    oldestDueAt: await oldestDueAt(db, now),
    receivedInWindow: received!.n,
    finishedInWindow: {
      completed: finishedCount('completed'),
      failed: finishedCount('failed'),
      skipped: finishedCount('skipped'),
    },
    retriesInWindow: retries!.n,
    processingMs: durations.map((row) => row.ms),
    byEvent: await grouped('event_type'),
    byRepository: await grouped('repository'),
    daily: [...daily],
    budgetCommittedToday: await committedUsd(db, today),
    budgetDeferred: deferred!.n,
    workers: await listWorkers(db, now, STOPPED_WORKERS_KEPT_MS),
    rateLimits: await latestRateLimits(db),
    pauses: await activePauses(db, now),
    resumedPauses: [
      ...(await db<ResumedPause[]>`
        SELECT scope, reason, started_at, until_at, hits, resumed_at, resumed_by, note, events_resumed
          FROM api_pause_history WHERE resumed_at >= ${since} ORDER BY resumed_at DESC, id DESC`),
    ],
    callsInFlight: await callsInFlight(db),
    unsettledToday: await unsettledCalls(db, Date.parse(today)),
  };
}
