import { formatMs } from '../commands/format.js';
import type { ReportData } from './data.js';
import { escapeHtml as e } from './escape.js';
import { lines, stackedBars, type Series } from './svg.js';
import { REPORT_CSS } from './style.js';

/** Skip reasons and models/repositories that get a colour of their own; the rest are summed as "other". */
const OWN_COLOURS = 5;

/** The report as one HTML page that needs nothing else: inline CSS and SVG, no script, no request. */
export function renderReport(r: ReportData): string {
  const dates = r.daily.map((d) => d.date);
  const budget =
    r.budget.daily_usd === null
      ? undefined
      : { value: r.budget.daily_usd, label: `daily budget ${usd(r.budget.daily_usd)}` };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>hls report ${e(r.window.first_day)} to ${e(r.window.last_day)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>hls report</h1>
<p>${e(r.database)} · ${r.window.days} UTC day(s), ${e(r.window.first_day)} to ${e(r.window.last_day)} · generated ${e(r.generated_at)}</p>
</header>
${totals(r)}
<section><h2>Events per day by outcome</h2>
<p class="note">By the day each event arrived; skipped events by reason.</p>
${stackedBars({ id: 'outcomes', label: 'events per day by outcome', dates, series: outcomeSeries(r), format: count })}
</section>
<section><h2>Cost per day by model</h2>
${stackedBars({ id: 'cost-by-model', label: 'cost per day by model', dates, series: spendSeries(r, 'cost_by_model'), format: usd, guide: budget })}
</section>
<section><h2>Cost per day by repository</h2>
${stackedBars({ id: 'cost-by-repository', label: 'cost per day by repository', dates, series: spendSeries(r, 'cost_by_repository'), format: usd, guide: budget })}
${budgetTable(r)}
</section>
<section><h2>Processing time per day</h2>
<p class="note">From claim to completion of the events completed that day; no point on a day without one.</p>
${lines({
  id: 'processing-time',
  label: 'processing time p50 and p95 per day',
  dates,
  series: [
    { name: 'p50', colour: 'p0', values: r.daily.map((d) => d.processing_ms.p50) },
    { name: 'p95', colour: 'p1', values: r.daily.map((d) => d.processing_ms.p95) },
  ],
  format: formatMs,
})}
</section>
<section class="pair">
<div><h2>Top skip reasons</h2>${table(
    ['reason', 'events'],
    r.top_skip_reasons.map((x) => [x.reason, x.events]),
  )}</div>
<div><h2>Top failure reasons</h2>${table(
    ['error', 'events'],
    r.top_failure_reasons.map((x) => [x.reason, x.events]),
  )}</div>
</section>
<section class="pair">
<div><h2>Spend by model</h2>${table(
    ['model', 'calls', 'cost'],
    r.cost_by_model.map((x) => [x.model, x.calls, usd(x.cost_usd)]),
  )}</div>
<div><h2>Spend by repository</h2>${table(
    ['repository', 'calls', 'cost'],
    r.cost_by_repository.map((x) => [x.repository, x.calls, usd(x.cost_usd)]),
  )}</div>
</section>
<section><h2>Rate-limit headroom</h2>
<p class="note">The newest reading of each limit the APIs reported.</p>
${rateLimits(r)}
</section>
<section><h2>Workers</h2>
<p>${r.workers.live} live, ${r.workers.stale} stale, ${r.workers.stopped} stopped in the last day · queue now: ${r.queue.pending} pending, ${r.queue.retry} retry, ${r.queue.processing} processing${r.oldest_due_age_seconds === null ? '' : ` · oldest due ${e(formatMs(r.oldest_due_age_seconds * 1000))}`}</p>
${table(
  ['worker', 'host', 'pid', 'state', 'in flight', 'processed', 'heartbeat'],
  r.workers.list.map((w) => [
    w.id,
    w.host,
    w.pid,
    w.state,
    `${w.in_flight}/${w.concurrency}`,
    w.processed,
    w.heartbeat_at ?? '-',
  ]),
)}
</section>
</body>
</html>
`;
}

function totals(r: ReportData): string {
  const t = r.totals;
  const item = (key: string, label: string, value: number | null, shown: string) =>
    `<div><dt>${e(label)}</dt><dd data-total="${e(key)}" data-value="${value ?? ''}">${e(shown)}</dd></div>`;
  const counted = (key: keyof typeof t & string, label: string = key) =>
    item(key, label, t[key] as number, String(t[key]));
  return `<dl class="totals">${[
    counted('events'),
    counted('completed'),
    counted('skipped'),
    counted('failed'),
    counted('waiting'),
    counted('analyses', 'model calls'),
    item('cost_usd', 'cost', t.cost_usd, usd(t.cost_usd)),
    item('p50', 'processing p50', t.processing_ms.p50, formatMs(t.processing_ms.p50)),
    item('p95', 'processing p95', t.processing_ms.p95, formatMs(t.processing_ms.p95)),
  ].join('')}</dl>`;
}

/** Completed, the most frequent skip reasons, the other skips, failed and still waiting. */
function outcomeSeries(r: ReportData): Series[] {
  const reasons = r.top_skip_reasons.slice(0, OWN_COLOURS).map((x) => x.reason);
  return [
    { name: 'completed', colour: 'ok', values: r.daily.map((d) => d.completed) },
    ...reasons.map((reason, index) => ({
      name: `skipped: ${reason}`,
      colour: `s${index}`,
      values: r.daily.map((d) => d.skipped_by_reason[reason] ?? 0),
    })),
    {
      name: reasons.length === 0 ? 'skipped' : 'skipped: other reasons',
      colour: 'skip-other',
      values: r.daily.map(
        (d) => d.skipped - reasons.reduce((sum, reason) => sum + (d.skipped_by_reason[reason] ?? 0), 0),
      ),
    },
    { name: 'failed', colour: 'bad', values: r.daily.map((d) => d.failed) },
    { name: 'waiting', colour: 'muted', values: r.daily.map((d) => d.waiting) },
  ];
}

/** Spend per day of the biggest models or repositories, the rest as "other". */
function spendSeries(r: ReportData, key: 'cost_by_model' | 'cost_by_repository'): Series[] {
  const names = (
    key === 'cost_by_model' ? r.cost_by_model.map((x) => x.model) : r.cost_by_repository.map((x) => x.repository)
  ).slice(0, OWN_COLOURS);
  const series: Series[] = names.map((name, index) => ({
    name,
    colour: `p${index}`,
    values: r.daily.map((d) => d[key][name] ?? 0),
  }));
  const other = r.daily.map((d) => d.cost_usd - names.reduce((sum, name) => sum + (d[key][name] ?? 0), 0));
  if (other.some((v) => v > 1e-9)) series.push({ name: 'other', colour: 'muted', values: other });
  if (series.length === 0) series.push({ name: 'no model calls', colour: 'muted', values: r.daily.map(() => 0) });
  return series;
}

function budgetTable(r: ReportData): string {
  const rows: (string | number)[][] = [];
  if (r.budget.daily_usd !== null)
    rows.push(['all repositories', usd(r.budget.daily_usd), usd(r.budget.committed_usd)]);
  for (const b of r.budget.repositories) rows.push([b.repository, usd(b.daily_usd), '']);
  if (rows.length === 0) return '<p class="note">No daily budget is configured.</p>';
  const state = r.budget.exhausted
    ? `<p class="alert">Budget exhausted: ${r.budget.deferred_events} event(s) deferred to the next UTC day.</p>`
    : '';
  return state + table(['daily budget', 'limit', 'committed today'], rows);
}

function rateLimits(r: ReportData): string {
  const pauses = r.pauses
    .map((p) => `<p class="alert">${e(p.kind)} paused until ${e(p.until)} (${p.hits} hit(s)): ${e(p.reason)}</p>`)
    .join('');
  return pauses + headroomTable(r);
}

function headroomTable(r: ReportData): string {
  if (r.rate_limits.length === 0) return '<p class="note">No rate-limit reading recorded yet.</p>';
  const rows = r.rate_limits.map((x) => {
    const share =
      x.headroom === null
        ? ''
        : `<meter min="0" max="1" low="0.1" optimum="1" value="${x.headroom.toFixed(3)}"></meter> ${(x.headroom * 100).toFixed(0)}%`;
    return [
      e(x.api),
      e(x.resource),
      e(x.key),
      `${e(x.remaining ?? '?')} / ${e(x.limit ?? '?')}`,
      share,
      e(x.reset ?? '-'),
    ];
  });
  return rawTable(['api', 'resource', 'key', 'remaining', 'headroom', 'resets'], rows);
}

function table(header: string[], rows: (string | number)[][]): string {
  return rawTable(
    header,
    rows.map((row) => row.map((cell) => e(cell))),
  );
}

/** A table of cells that are already HTML. */
function rawTable(header: string[], rows: string[][]): string {
  if (rows.length === 0) return '<p class="note">None.</p>';
  const head = header.map((h) => `<th>${e(h)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function count(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function usd(value: number): string {
  return `$${value >= 1 || value === 0 ? value.toFixed(2) : value.toFixed(4)}`;
}
