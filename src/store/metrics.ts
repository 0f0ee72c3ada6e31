import type { Db } from './open.js';
import { statement } from './statements.js';

/** Upper bounds (seconds) of each histogram's buckets; a value above the last goes to +Inf. */
export const HISTOGRAM_BOUNDS = {
  github_request_duration_seconds: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  anthropic_request_duration_seconds: [0.5, 1, 2.5, 5, 10, 20, 40, 60, 120, 300],
  event_processing_seconds: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
} as const;

export type HistogramName = keyof typeof HISTOGRAM_BOUNDS;

/** Adds one observation to a histogram; labels are stored as JSON with sorted keys. */
export function observe(db: Db, metric: HistogramName, labels: Record<string, string>, seconds: number): void {
  const bounds: readonly number[] = HISTOGRAM_BOUNDS[metric];
  const first = bounds.findIndex((bound) => seconds <= bound);
  const bucket = first === -1 ? bounds.length : first;
  const key = labelKey(labels);
  db.transaction(() => {
    statement(
      db,
      `INSERT INTO metric_buckets (metric, labels, bucket, count) VALUES (?, ?, ?, 1)
       ON CONFLICT (metric, labels, bucket) DO UPDATE SET count = count + 1`,
    ).run(metric, key, bucket);
    statement(
      db,
      `INSERT INTO metric_totals (metric, labels, count, sum) VALUES (?, ?, 1, ?)
       ON CONFLICT (metric, labels) DO UPDATE SET count = count + 1, sum = sum + excluded.sum`,
    ).run(metric, key, seconds);
  })();
}

export interface HistogramSeries {
  labels: Record<string, string>;
  /** Non-cumulative counts per bucket, bounds.length + 1 entries (the last is +Inf). */
  buckets: number[];
  count: number;
  sum: number;
}

export function histogram(db: Db, metric: HistogramName): HistogramSeries[] {
  const size = HISTOGRAM_BOUNDS[metric].length + 1;
  const series = new Map<string, HistogramSeries>();
  const totals = statement(db, `SELECT labels, count, sum FROM metric_totals WHERE metric = ? ORDER BY labels`).all(
    metric,
  ) as { labels: string; count: number; sum: number }[];
  for (const t of totals) {
    series.set(t.labels, {
      labels: JSON.parse(t.labels),
      buckets: new Array(size).fill(0),
      count: t.count,
      sum: t.sum,
    });
  }
  const rows = statement(db, `SELECT labels, bucket, count FROM metric_buckets WHERE metric = ?`).all(metric) as {
    labels: string;
    bucket: number;
    count: number;
  }[];
  for (const row of rows) {
    const s = series.get(row.labels);
    if (s && row.bucket < size) s.buckets[row.bucket] = row.count;
  }
  return [...series.values()];
}

function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b))));
}
