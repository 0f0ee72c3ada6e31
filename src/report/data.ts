import { statsReport } from '../commands/stats.js';
import { percentile } from '../percentile.js';
import { utcDay } from '../store/status-counts.js';
import type { DailyRow, ReportSnapshot } from '../store/types.js';

/** How many skip and failure reasons the report lists. */
const TOP_REASONS = 10;

export interface ReportContext {
  database: string;
  days: number;
  dailyBudgetUsd: number | null;
  repositoryBudgets: { repository: string; daily_usd: number }[];
}

export type ReportData = ReturnType<typeof reportData>;

/**
 * The document `hls report --json` prints and the HTML draws: one row per UTC day of the window (zeros
 * included), with the per-day counts and spend of `hls stats` (daily_stats: events by the day they
 * arrived, spend by the day of the call) broken down further.
 */
export function reportData(r: ReportSnapshot, at: ReportContext) {
  const now = r.stats.now;
  const stats = statsReport(r.stats, {
    database: at.database,
    now,
    since: Date.parse(r.firstDay),
    days: at.days,
    dailyBudgetUsd: at.dailyBudgetUsd,
  });
  const dates = windowDates(r.firstDay, at.days);
  const statsDaily = new Map(stats.daily.map((row) => [row.date, row]));
  const daily = dates.map((date) => dayRow(date, statsDaily.get(date), r));
  const sum = (pick: (row: (typeof daily)[number]) => number) => daily.reduce((total, row) => total + pick(row), 0);
  return {
    generated_at: stats.generated_at,
    database: stats.database,
    window: { first_day: r.firstDay, last_day: utcDay(now), days: at.days },
    totals: {
      events: sum((d) => d.events),
      completed: sum((d) => d.completed),
      skipped: sum((d) => d.skipped),
      failed: sum((d) => d.failed),
      waiting: sum((d) => d.waiting),
      analyses: sum((d) => d.analyses),
      tokens: sum((d) => d.tokens),
      cost_usd: sum((d) => d.cost_usd),
      processing_ms: {
        count: r.durations.length,
        p50: percentile(sortedMs(r.durations), 0.5),
        p95: percentile(sortedMs(r.durations), 0.95),
      },
    },
    daily,
    top_skip_reasons: topReasons(r.reasons, 'skipped'),
    top_failure_reasons: topReasons(r.reasons, 'failed'),
    cost_by_model: spendBy(r.spend, 'model'),
    cost_by_repository: spendBy(r.spend, 'repository'),
    budget: { ...stats.budget, repositories: at.repositoryBudgets },
    queue: stats.queue,
    oldest_due_age_seconds: stats.oldest_due_age_seconds,
    rate_limits: stats.rate_limits.map((limit) => ({
      ...limit,
      headroom:
        limit.limit === null || limit.remaining === null || limit.limit === 0 ? null : limit.remaining / limit.limit,
    })),
    pauses: stats.pauses,
    workers: stats.workers,
  };
}

function dayRow(date: string, counts: DailyRow | undefined, r: ReportSnapshot) {
  const c = counts ?? {
    events: 0,
    completed: 0,
    failed: 0,
    skipped: 0,
    analyses: 0,
    actions: 0,
    tokens: 0,
    cost_usd: 0,
  };
  const durations = sortedMs(r.durations.filter((row) => row.date === date));
  const spend = r.spend.filter((row) => row.date === date);
  return {
    date,
    events: c.events,
    completed: c.completed,
    skipped: c.skipped,
    failed: c.failed,
    /** Arrived that day and still pending, retrying or processing. */
    waiting: c.events - c.completed - c.failed - c.skipped,
    skipped_by_reason: reasonCounts(r.reasons, date, 'skipped'),
    failed_by_reason: reasonCounts(r.reasons, date, 'failed'),
    analyses: c.analyses,
    actions: c.actions,
    tokens: c.tokens,
    cost_usd: c.cost_usd,
    cost_by_model: spendOf(spend, 'model'),
    cost_by_repository: spendOf(spend, 'repository'),
    processing_ms: {
      count: durations.length,
      p50: percentile(durations, 0.5),
      p95: percentile(durations, 0.95),
    },
  };
}

/** The window's dates, oldest first. */
function windowDates(firstDay: string, days: number): string[] {
  const first = Date.parse(firstDay);
  return Array.from({ length: days }, (_, index) => utcDay(first + index * 86_400_000));
}

function sortedMs(rows: { ms: number }[]): number[] {
  return rows.map((row) => row.ms).sort((a, b) => a - b);
}

function reasonCounts(reasons: ReportSnapshot['reasons'], date: string, status: 'skipped' | 'failed') {
  return Object.fromEntries(
    reasons.filter((row) => row.date === date && row.status === status).map((row) => [row.reason, row.n]),
  ) as Record<string, number>;
}

function spendOf(spend: ReportSnapshot['spend'], key: 'model' | 'repository'): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const row of spend) totals[row[key]] = (totals[row[key]] ?? 0) + row.cost_usd;
  return totals;
}

function topReasons(reasons: ReportSnapshot['reasons'], status: 'skipped' | 'failed') {
  const counts = new Map<string, number>();
  for (const row of reasons) if (row.status === status) counts.set(row.reason, (counts.get(row.reason) ?? 0) + row.n);
  return [...counts]
    .map(([reason, events]) => ({ reason, events }))
    .sort((a, b) => b.events - a.events || a.reason.localeCompare(b.reason))
    .slice(0, TOP_REASONS);
}

function spendBy(spend: ReportSnapshot['spend'], key: 'model' | 'repository') {
  const totals = new Map<string, { cost_usd: number; calls: number }>();
  for (const row of spend) {
    const total = totals.get(row[key]) ?? { cost_usd: 0, calls: 0 };
    total.cost_usd += row.cost_usd;
    total.calls += row.calls;
    totals.set(row[key], total);
  }
  return [...totals]
    .map(
      ([name, total]) =>
        ({ [key]: name, ...total }) as { cost_usd: number; calls: number } & Record<typeof key, string>,
    )
    .sort((a, b) => b.cost_usd - a.cost_usd || a[key].localeCompare(b[key]));
}
