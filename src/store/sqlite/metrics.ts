import { assembleHistogram, bucketIndex, labelKey } from '../histograms.js';
import type { HistogramName, HistogramSeries } from '../types.js';
import type { Db } from './open.js';
import { statement } from './statements.js';

/** Adds one observation to a histogram; labels are stored as JSON with sorted keys. */
export function observe(db: Db, metric: HistogramName, labels: Record<string, string>, seconds: number): void {
  const bucket = bucketIndex(metric, seconds);
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

export function histogram(db: Db, metric: HistogramName): HistogramSeries[] {
  const totals = statement(db, `SELECT labels, count, sum FROM metric_totals WHERE metric = ? ORDER BY labels`).all(
    metric,
  ) as { labels: string; count: number; sum: number }[];
  const buckets = statement(db, `SELECT labels, bucket, count FROM metric_buckets WHERE metric = ?`).all(metric) as {
    labels: string;
    bucket: number;
    count: number;
  }[];
  return assembleHistogram(metric, totals, buckets);
}
