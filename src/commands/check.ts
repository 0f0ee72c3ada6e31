import type { LoadedConfig } from '../config/load.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { StatsReport } from './stats.js';

export type Thresholds = LoadedConfig['alerts'];
type Key = keyof Thresholds;

/** Nagios plugin states, which are also the exit codes. */
export const CHECK = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
const NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

interface Measure {
  key: Key;
  value: number;
  unit: '' | 's' | '%';
  /** Alert when the value falls below the thresholds instead of reaching them. */
  floor?: boolean;
  problem: string;
}

/** Parses `--threshold key=warning,critical` values over the config's `alerts:`; an empty side keeps the config's. */
export function applyThresholdFlags(base: Thresholds, flags: string[] = []): Thresholds {
  const result: Thresholds = structuredClone(base);
  for (const flag of flags) {
    const match = /^([a-z_]+)=(\d+(?:\.\d+)?)?,(\d+(?:\.\d+)?)?$/.exec(flag);
    if (!match || !(match[1]! in result) || (match[2] === undefined && match[3] === undefined)) {
      throw new CliError(
        `invalid --threshold "${flag}": use KEY=WARNING,CRITICAL (leave one empty to keep the config's) with KEY one of ${Object.keys(result).join(', ')}`,
        EXIT.USAGE,
      );
    }
    const level = result[match[1] as Key];
    if (match[2] !== undefined) level.warning = Number(match[2]);
    if (match[3] !== undefined) level.critical = Number(match[3]);
  }
  return result;
}

/** One status line with perfdata, as cron, monit and Nagios expect, and the state to exit with. */
export function evaluateCheck(report: StatsReport, thresholds: Thresholds): { state: number; line: string } {
  const finished = report.window_totals.completed + report.window_totals.failed;
  const measures: Measure[] = [
    { key: 'failed', value: report.queue.failed, unit: '', problem: `${report.queue.failed} failed event(s)` },
    {
      key: 'failure_rate',
      value: finished === 0 ? 0 : report.window_totals.failed / finished,
      unit: '',
      problem: `failure rate ${report.window_totals.failed}/${finished}`,
    },
    {
      key: 'oldest_due_seconds',
      value: report.oldest_due_age_seconds ?? 0,
      unit: 's',
      problem: `oldest due event waiting ${report.oldest_due_age_seconds ?? 0}s`,
    },
    {
      key: 'live_workers',
      value: report.workers.live,
      unit: '',
      floor: true,
      problem: `${report.workers.live} live worker(s)`,
    },
  ];
  if (report.budget.daily_usd) {
    const used = (report.budget.committed_usd / report.budget.daily_usd) * 100;
    measures.push({ key: 'budget_used_percent', value: used, unit: '%', problem: `budget ${used.toFixed(0)}% used` });
  }
  const scarcest = scarcestRateLimit(report);
  if (scarcest) measures.push(scarcest);
  const spendPause = report.pauses.find((p) => p.kind === 'anthropic_spend');
  let state: number = spendPause ? CHECK.CRITICAL : CHECK.OK;
  const problems = spendPause ? [`Anthropic spend limit reached; model calls stopped until ${spendPause.until}`] : [];
  for (const measure of measures) {
    const measured = stateOf(measure, thresholds[measure.key]);
    if (measured > CHECK.OK) problems.push(measure.problem);
    state = Math.max(state, measured);
  }
  const summary =
    problems.length > 0
      ? problems.join('; ')
      : `${report.queue.pending + report.queue.retry} waiting, ${report.queue.failed} failed, ${report.workers.live} live worker(s)`;
  const perfdata = measures.map((m) => perf(m, thresholds[m.key])).join(' ');
  return { state, line: `HLS ${NAMES[state]} - ${summary} | ${perfdata}` };
}

/** The rate limit with the smallest share left, among readings whose window has not reset yet. */
function scarcestRateLimit(report: StatsReport): Measure | undefined {
  const now = Date.parse(report.generated_at);
  let scarcest: Measure | undefined;
  for (const r of report.rate_limits) {
    if (!r.limit || r.remaining === null || r.reset === null || Date.parse(r.reset) <= now) continue;
    const value = (r.remaining / r.limit) * 100;
    if (scarcest && scarcest.value <= value) continue;
    scarcest = {
      key: 'rate_limit_remaining_percent',
      value,
      unit: '%',
      floor: true,
      problem: `${r.api} ${r.resource} rate limit ${value.toFixed(0)}% left (${r.remaining}/${r.limit} until ${r.reset})`,
    };
  }
  return scarcest;
}

export function unknownLine(message: string): string {
  return `HLS UNKNOWN - ${message}`;
}

function stateOf(measure: Measure, level: { warning: number; critical: number }): number {
  if (measure.floor) {
    return measure.value < level.critical ? CHECK.CRITICAL : measure.value < level.warning ? CHECK.WARNING : CHECK.OK;
  }
  return measure.value >= level.critical ? CHECK.CRITICAL : measure.value >= level.warning ? CHECK.WARNING : CHECK.OK;
}

/** Nagios perfdata: label=value[unit];warn;crit — a floor is written as the range "N:" (alert below N). */
function perf(measure: Measure, level: { warning: number; critical: number }): string {
  const value = Number.isInteger(measure.value) ? String(measure.value) : measure.value.toFixed(3);
  const bound = (n: number) => (measure.floor ? `${n}:` : String(n));
  return `${measure.key}=${value}${measure.unit};${bound(level.warning)};${bound(level.critical)}`;
}
