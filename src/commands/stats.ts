import { CliError, EXIT } from '../exit-codes.js';
import { percentile } from '../percentile.js';
import { apisWithSeveralKeys, keyId, pauseKind, scopeKeySha256 } from '../metrics/api-limits.js';
import type { Pause, RateLimitRow, StatsSnapshot } from '../store/types.js';
import { workerState } from '../store/worker-state.js';
import { applyThresholdFlags, CHECK, evaluateCheck, unknownLine } from './check.js';
import {
  commandContext,
  describeTarget,
  withStore,
  type CommandContext,
  type GlobalOptions,
} from './command-context.js';
import { formatMs, formatPercent, isoTime, printJson, printLines, table } from './format.js';
import { resumedReport } from './resume.js';
import { runStatsPrometheus } from './stats-prometheus.js';

export interface StatsFlags extends GlobalOptions {
  format?: 'text' | 'json' | 'prometheus';
  /** Same as format json (commander refuses both together). */
  json?: boolean;
  output?: string;
  since: number;
  days: number;
  check?: boolean;
  threshold?: string[];
}

/** `hls stats`: the figures, as text for a person, the stable JSON document of docs/cli.md, or Prometheus metrics. */
export async function runStats(flags: StatsFlags): Promise<number> {
  if (flags.check) return runCheck(flags);
  const format = flags.json ? 'json' : (flags.format ?? 'text');
  if (flags.output !== undefined && format !== 'prometheus') {
    throw new CliError('--output writes the Prometheus format: add --format prometheus', EXIT.USAGE);
  }
  if (format === 'prometheus') return runStatsPrometheus(flags);
  const report = await buildReport(flags, commandContext(flags));
  if (format === 'json') printJson(report);
  else printLines(statsText(report));
  return EXIT.OK;
}

/** `hls stats --check`: Nagios plugin output; anything that prevents a verdict is UNKNOWN (3). */
async function runCheck(flags: StatsFlags): Promise<number> {
  try {
    const context = commandContext(flags);
    const thresholds = applyThresholdFlags(context.config.alerts, flags.threshold);
    const { state, line } = evaluateCheck(await buildReport(flags, context), thresholds);
    process.stdout.write(`${line}\n`);
    return state;
  } catch (error) {
    process.stdout.write(`${unknownLine((error as Error).message)}\n`);
    return CHECK.UNKNOWN;
  }
}

async function buildReport(flags: StatsFlags, { database, config }: CommandContext): Promise<StatsReport> {
  const snapshot = await withStore(database, (store) => store.admin.readStats(store.clock() - flags.since, flags.days));
  const now = snapshot.now;
  return statsReport(snapshot, {
    database: describeTarget(database),
    now,
    since: now - flags.since,
    days: flags.days,
    dailyBudgetUsd: config.claude.daily_budget_usd ?? null,
  });
}

export type StatsReport = ReturnType<typeof statsReport>;

export function statsReport(
  s: StatsSnapshot,
  at: { database: string; now: number; since: number; days: number; dailyBudgetUsd: number | null },
) {
  const { completed, failed, skipped } = s.finishedInWindow;
  const today = new Date(at.now).toISOString().slice(0, 10);
  const todayRow = s.daily.find((row) => row.date === today);
  return {
    generated_at: isoTime(at.now)!,
    database: at.database,
    window: { since: isoTime(at.since)!, seconds: Math.round((at.now - at.since) / 1000) },
    queue: s.queue,
    oldest_due_age_seconds: s.oldestDueAt === null ? null : Math.max(0, Math.round((at.now - s.oldestDueAt) / 1000)),
    window_totals: {
      received: s.receivedInWindow,
      completed,
      failed,
      skipped,
      retries: s.retriesInWindow,
      success_rate: completed + failed === 0 ? null : completed / (completed + failed),
      processing_ms: {
        count: s.processingMs.length,
        p50: percentile(s.processingMs, 0.5),
        p95: percentile(s.processingMs, 0.95),
      },
    },
    by_event: s.byEvent.map(({ name, ...counts }) => ({ event: name, ...counts })),
    by_repository: s.byRepository.map(({ name, ...counts }) => ({ repository: name, ...counts })),
    today: {
      date: today,
      analyses: todayRow?.analyses ?? 0,
      tokens: todayRow?.tokens ?? 0,
      cost_usd: todayRow?.cost_usd ?? 0,
    },
    budget: {
      daily_usd: at.dailyBudgetUsd,
      committed_usd: s.budgetCommittedToday,
      remaining_usd: at.dailyBudgetUsd === null ? null : Math.max(0, at.dailyBudgetUsd - s.budgetCommittedToday),
      deferred_events: s.budgetDeferred,
      exhausted: s.budgetDeferred > 0 || (at.dailyBudgetUsd !== null && s.budgetCommittedToday >= at.dailyBudgetUsd),
    },
    workers: workersReport(s, at.now),
    rate_limits: s.rateLimits.map(rateLimitReport),
    pauses: s.pauses.map(pauseReport),
    resumed_pauses: s.resumedPauses.map(resumedReport),
    model_calls: {
      in_flight: s.callsInFlight.calls,
      in_flight_worst_case_usd: s.callsInFlight.usd,
      unsettled_today: s.unsettledToday.calls,
      unsettled_today_usd: s.unsettledToday.usd,
    },
    daily: s.daily,
  };
}

/** The newest reading of one rate limit; `key` tells several tokens or API keys apart without showing them. */
function rateLimitReport(r: RateLimitRow) {
  return {
    api: r.api,
    resource: r.resource,
    key: keyId(r.key_sha256),
    limit: r.limit_value,
    remaining: r.remaining,
    reset: isoTime(r.reset_at),
  };
}

function pauseReport(p: Pause) {
  return {
    kind: pauseKind(p.scope),
    key: keyId(scopeKeySha256(p.scope)),
    until: isoTime(p.until_at)!,
    reason: p.reason,
    hits: p.hits,
  };
}

function workersReport(s: StatsSnapshot, now: number) {
  const list = s.workers.map((w) => ({
    id: w.id,
    host: w.host,
    pid: w.pid,
    state: workerState(w, now),
    started_at: isoTime(w.started_at),
    heartbeat_at: isoTime(w.heartbeat_at),
    concurrency: w.concurrency,
    in_flight: w.in_flight,
    processed: w.processed,
  }));
  const count = (workers: typeof list, state: string) => workers.filter((w) => w.state === state).length;
  const hosts = [...new Set(list.map((w) => w.host))].sort();
  const by_host = hosts.map((host) => {
    const on = list.filter((w) => w.host === host);
    return { host, live: count(on, 'live'), stale: count(on, 'stale'), stopped: count(on, 'stopped') };
  });
  return { live: count(list, 'live'), stale: count(list, 'stale'), stopped: count(list, 'stopped'), by_host, list };
}

/** Per host with a live or stale worker: its counts, then one line per such worker. */
function workerLines(workers: StatsReport['workers']): string[] {
  return workers.by_host
    .filter((h) => h.live + h.stale > 0)
    .flatMap((h) => [
      `  ${h.host}  ${h.live} live, ${h.stale} stale`,
      ...workers.list
        .filter((w) => w.host === h.host && w.state !== 'stopped')
        .map(
          (w) =>
            `    ${w.id}  ${w.state}  pid ${w.pid} on ${w.host}  in flight ${w.in_flight}/${w.concurrency}  processed ${w.processed}  heartbeat ${w.heartbeat_at}`,
        ),
    ]);
}

function statsText(r: StatsReport): string[] {
  const q = r.queue;
  const w = r.window_totals;
  const statusLine = (c: StatsReport['queue']) =>
    `pending ${c.pending}  processing ${c.processing}  retry ${c.retry}  completed ${c.completed}  failed ${c.failed}  skipped ${c.skipped}`;
  return [
    `hls stats  ${r.database}  window ${formatMs(r.window.seconds * 1000)} (since ${r.window.since})`,
    `queue       ${statusLine(q)}  total ${q.total}`,
    `oldest due  ${r.oldest_due_age_seconds === null ? 'none' : formatMs(r.oldest_due_age_seconds * 1000)}`,
    `window      received ${w.received}  completed ${w.completed}  failed ${w.failed}  skipped ${w.skipped}  retries ${w.retries}  success ${formatPercent(w.success_rate)}`,
    `processing  p50 ${formatMs(w.processing_ms.p50)}  p95 ${formatMs(w.processing_ms.p95)}  (${w.processing_ms.count} completed)`,
    `today       analyses ${r.today.analyses}  tokens ${r.today.tokens}  cost $${r.today.cost_usd.toFixed(4)}`,
    `model calls in flight ${r.model_calls.in_flight} (worst case $${r.model_calls.in_flight_worst_case_usd.toFixed(4)})  unsettled today ${r.model_calls.unsettled_today} ($${r.model_calls.unsettled_today_usd.toFixed(4)} at worst case)`,
    `budget      ${budgetLine(r.budget)}`,
    `workers     ${r.workers.live} live, ${r.workers.stale} stale, ${r.workers.stopped} stopped today, on ${r.workers.by_host.length} host(s)`,
    ...workerLines(r.workers),
    ...rateLimitLines(r.rate_limits),
    `pauses      ${r.pauses.length === 0 ? 'none' : `${r.pauses.length} active`}`,
    ...r.pauses.map((p) => `  ${p.kind}  until ${p.until}  hits ${p.hits}  ${p.reason}`),
    ...(r.resumed_pauses.length === 0 ? [] : ['resumed by hand']),
    ...r.resumed_pauses.map(
      (p) =>
        `  ${p.kind}  at ${p.resumed_at} by ${p.resumed_by}  (${p.reason}, until ${p.until})  ${p.events_resumed} event(s) made due${p.note ? `  note: ${p.note}` : ''}`,
    ),
    '',
    ...table(
      ['event', 'total', 'completed', 'skipped', 'failed', 'waiting'],
      r.by_event.map((g) => [g.event, g.total, g.completed, g.skipped, g.failed, g.pending + g.retry + g.processing]),
    ),
    '',
    ...table(
      ['repository', 'total', 'completed', 'skipped', 'failed', 'waiting'],
      r.by_repository.map((g) => [
        g.repository,
        g.total,
        g.completed,
        g.skipped,
        g.failed,
        g.pending + g.retry + g.processing,
      ]),
    ),
    '',
    ...table(
      ['date', 'events', 'completed', 'failed', 'skipped', 'analyses', 'actions', 'cost_usd'],
      r.daily.map((d) => [
        d.date,
        d.events,
        d.completed,
        d.failed,
        d.skipped,
        d.analyses,
        d.actions,
        d.cost_usd.toFixed(4),
      ]),
    ),
  ];
}

function budgetLine(b: StatsReport['budget']): string {
  const limit =
    b.daily_usd === null ? 'no daily limit' : `$${b.committed_usd.toFixed(4)} of $${b.daily_usd.toFixed(2)} committed`;
  const state = b.exhausted ? `  EXHAUSTED: ${b.deferred_events} event(s) deferred to the next UTC day` : '';
  return `${limit}${state}`;
}

/** One line per reading; the key id only where an API has readings of several keys. */
function rateLimitLines(readings: StatsReport['rate_limits']): string[] {
  if (readings.length === 0) return ['rate limits none recorded'];
  const keyed = apisWithSeveralKeys(readings);
  return [
    'rate limits',
    ...readings.map(
      (r) =>
        `  ${r.api} ${r.resource}${keyed.has(r.api) ? ` key ${r.key}` : ''}  ${r.remaining ?? '?'}/${r.limit ?? '?'} left  resets ${r.reset ?? '-'}`,
    ),
  ];
}
