import { EVENT_STATUSES, HISTOGRAM_BOUNDS, type HistogramName, type MetricsSnapshot } from '../store/types.js';
import { WORKER_STATES, workerState } from '../store/worker-state.js';
import { apisWithSeveralKeys, keyId, PAUSE_KINDS, pauseKind } from './api-limits.js';
import type { HistogramSample, Labels, MetricFamily, Sample } from './exposition.js';

const WAITING = ['pending', 'retry', 'processing'] as const;
const TOKEN_TYPES = ['input', 'output', 'cache_write', 'cache_read'] as const;

/** The metrics hls exports, named and described as docs/operations.md lists them. */
export function hlsMetricFamilies(s: MetricsSnapshot): MetricFamily[] {
  const github = s.histograms.github_request_duration_seconds;
  const anthropic = s.histograms.anthropic_request_duration_seconds;
  return [
    gauge('hls_events', 'Events stored in the database, by event type and status.', eventSamples(s)),
    gauge(
      'hls_queue_depth',
      'Events waiting (pending, retry) or being processed (processing).',
      WAITING.map((status) => ({ labels: { status }, value: countWithStatus(s, status) })),
    ),
    gauge('hls_oldest_due_age_seconds', 'Age of the oldest due event no worker has claimed; 0 when none waits.', [
      { labels: {}, value: s.oldestDueAt === null ? 0 : Math.max(0, (s.now - s.oldestDueAt) / 1000) },
    ]),
    histogram(
      s,
      'event_processing_seconds',
      'hls_event_processing_seconds',
      'Time from claim to result of each processing attempt, by event type and outcome.',
    ),
    counter(
      'hls_model_requests_total',
      'Model calls recorded in the ledger, by model and outcome.',
      s.ledger.map((row) => ({ labels: { model: row.model, outcome: row.outcome }, value: row.requests })),
    ),
    counter(
      'hls_model_tokens_total',
      'Tokens of the model calls in the ledger, by model and type (input, output, cache_write, cache_read).',
      byModel(s).flatMap(([model, rows]) =>
        TOKEN_TYPES.map((type) => ({ labels: { model, type }, value: sum(rows, `${type}_tokens`) })),
      ),
    ),
    counter(
      'hls_model_cost_usd_total',
      'Cost in USD of the model calls in the ledger, by model.',
      byModel(s).map(([model, rows]) => ({ labels: { model }, value: sum(rows, 'cost_usd') })),
    ),
    gauge('hls_model_calls_in_flight', 'Model calls sent and not answered yet (ledger outcome sent).', [
      { labels: {}, value: s.callsInFlight.calls },
    ]),
    gauge('hls_model_in_flight_worst_case_usd', 'Worst-case cost in USD of the model calls in flight.', [
      { labels: {}, value: s.callsInFlight.usd },
    ]),
    counter(
      'hls_model_unsettled_calls_total',
      'Model calls whose answer was never read (worker killed, hung or stopped in flight), counted at their worst case.',
      [{ labels: {}, value: s.unsettled.calls }],
    ),
    counter('hls_model_unsettled_cost_usd_total', 'Worst-case cost in USD of the unsettled model calls.', [
      { labels: {}, value: s.unsettled.usd },
    ]),
    gauge(
      'hls_budget_remaining_usd',
      'Daily budget left today (UTC), in USD: scope "all" for claude.daily_budget_usd, else the repository.',
      s.budgets.map((b) => ({ labels: { scope: b.scope }, value: Math.max(0, b.dailyUsd - b.committedUsd) })),
    ),
    counter(
      'hls_github_requests_total',
      'GitHub API responses, by route and HTTP status.',
      github.map((series) => ({ labels: series.labels, value: series.count })),
    ),
    histogram(s, 'github_request_duration_seconds', 'hls_github_request_duration_seconds', 'GitHub API request time.'),
    counter(
      'hls_anthropic_requests_total',
      'Anthropic API responses, by HTTP status.',
      anthropic.map((series) => ({ labels: series.labels, value: series.count })),
    ),
    histogram(
      s,
      'anthropic_request_duration_seconds',
      'hls_anthropic_request_duration_seconds',
      'Anthropic API request time.',
    ),
    ...rateLimitFamilies(s),
    gauge(
      'hls_api_paused',
      'Whether calls to an API are paused (1) after a rate-limit or spend-limit answer, by kind of pause.',
      PAUSE_KINDS.map((kind) => ({
        labels: { scope_kind: kind },
        value: s.pauses.some((p) => pauseKind(p.scope) === kind) ? 1 : 0,
      })),
    ),
    gauge(
      'hls_workers',
      'Worker processes: live (heard from within the lease), stale (silent longer), stopped (within a day).',
      WORKER_STATES.map((state) => ({
        labels: { state },
        value: s.workers.filter((w) => workerState(w, s.now) === state).length,
      })),
    ),
    gauge('hls_stats_generated_timestamp_seconds', 'When these figures were read (Unix time).', [
      { labels: {}, value: s.now / 1000 },
    ]),
  ];
}

/** The latest reading of each rate limit; the key id label appears only when an API has several keys. */
function rateLimitFamilies(s: MetricsSnapshot): MetricFamily[] {
  const keyed = apisWithSeveralKeys(s.rateLimits.map((r) => ({ api: r.api, key: r.key_sha256 })));
  const labelled = s.rateLimits.map((r) => ({
    row: r,
    labels: { api: r.api, resource: r.resource, ...(keyed.has(r.api) ? { key: keyId(r.key_sha256) } : {}) },
  }));
  const samples = (value: (row: (typeof s.rateLimits)[number]) => number | null): Sample[] =>
    labelled.flatMap(({ row, labels }) => {
      const v = value(row);
      return v === null ? [] : [{ labels, value: v }];
    });
  return [
    gauge(
      'hls_ratelimit_remaining',
      'Requests or tokens left in the current rate-limit window.',
      samples((r) => r.remaining),
    ),
    gauge(
      'hls_ratelimit_limit',
      'Size of the rate-limit window.',
      samples((r) => r.limit_value),
    ),
    gauge(
      'hls_ratelimit_reset_timestamp_seconds',
      'When the rate-limit window resets (Unix time).',
      samples((r) => (r.reset_at === null ? null : r.reset_at / 1000)),
    ),
  ];
}

/** Every status for each event type present, zeros included, so a series does not vanish when it empties. */
function eventSamples(s: MetricsSnapshot): Sample[] {
  const types = [...new Set(s.events.map((row) => row.event))];
  return types.flatMap((event) =>
    EVENT_STATUSES.map((status) => ({
      labels: { event, status },
      value: s.events.find((row) => row.event === event && row.status === status)?.count ?? 0,
    })),
  );
}

function countWithStatus(s: MetricsSnapshot, status: string): number {
  return s.events.filter((row) => row.status === status).reduce((total, row) => total + row.count, 0);
}

function byModel(s: MetricsSnapshot): [string, MetricsSnapshot['ledger']][] {
  const models = new Map<string, MetricsSnapshot['ledger']>();
  for (const row of s.ledger) models.set(row.model, [...(models.get(row.model) ?? []), row]);
  return [...models];
}

function sum<K extends string>(rows: Record<K, number>[], key: K): number {
  return rows.reduce((total, row) => total + row[key], 0);
}

function gauge(name: string, help: string, samples: Sample[]): MetricFamily {
  return { name, help, type: 'gauge', samples };
}

function counter(name: string, help: string, samples: Sample[]): MetricFamily {
  return { name, help, type: 'counter', samples };
}

function histogram(s: MetricsSnapshot, stored: HistogramName, name: string, help: string): MetricFamily {
  const samples: HistogramSample[] = s.histograms[stored].map((series) => ({
    labels: series.labels as Labels,
    bounds: HISTOGRAM_BOUNDS[stored],
    buckets: series.buckets,
    sum: series.sum,
    count: series.count,
  }));
  return { name, help, type: 'histogram', samples };
}
