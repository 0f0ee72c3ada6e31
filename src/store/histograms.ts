import { HISTOGRAM_BOUNDS, type HistogramName, type HistogramSeries } from './types.js';

/** Index of the first bound ≥ seconds; bounds.length is the +Inf bucket. */
export function bucketIndex(metric: HistogramName, seconds: number): number {
  const bounds: readonly number[] = HISTOGRAM_BOUNDS[metric];
  const first = bounds.findIndex((bound) => seconds <= bound);
  return first === -1 ? bounds.length : first;
}

/** Labels are stored as JSON with sorted keys, so one set of labels is one row. */
export function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b))));
}

/** Builds the series from metric_totals rows (ordered by labels) and metric_buckets rows. */
export function assembleHistogram(
  metric: HistogramName,
  totals: { labels: string; count: number; sum: number }[],
  buckets: { labels: string; bucket: number; count: number }[],
): HistogramSeries[] {
  const size = HISTOGRAM_BOUNDS[metric].length + 1;
  const series = new Map<string, HistogramSeries>();
  for (const t of totals) {
    series.set(t.labels, {
      labels: JSON.parse(t.labels),
      buckets: new Array(size).fill(0),
      count: t.count,
      sum: t.sum,
    });
  }
  for (const row of buckets) {
    const s = series.get(row.labels);
    if (s && row.bucket < size) s.buckets[row.bucket] = row.count;
  }
  return [...series.values()];
}
