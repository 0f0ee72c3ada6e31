// examples/grafana/hls.json: a dashboard Grafana can import, whose every query names a series that
// `hls stats --format prometheus` really emits (read from the real command over a filled database).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runHls, tempDir } from './helpers/hls.js';
import { queueIssueEvent, stage, type Stage } from './helpers/pipeline.js';

interface Target {
  expr: string;
  refId: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

const dashboard = JSON.parse(readFileSync(join(ROOT, 'examples/grafana/hls.json'), 'utf8')) as {
  __inputs: { name: string; type: string; pluginId: string }[];
  title: string;
  uid: string;
  schemaVersion: number;
  panels: Panel[];
};
const queryPanels = dashboard.panels.filter((panel) => panel.type !== 'row');
const expressions = queryPanels.flatMap((panel) => panel.targets!.map((target) => target.expr));

/** The metric names an expression refers to: hls_ identifiers, not label names or functions. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\bhls_[a-z0-9_]+\b/g)].map((match) => match[0]);
}

/**
 * The series names an exposition holds: each family's name, and for a histogram the _bucket, _sum and
 * _count series Prometheus stores instead of it.
 */
function exposedSeries(exposition: string): Set<string> {
  const series = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) series.add(name + suffix);
    else series.add(name!);
  }
  return series;
}

const promtool = spawnSync('promtool', ['--version']).status === 0;
if (!promtool) {
  console.warn(
    '\n*** WARNING: the PromQL syntax check in test/grafana.test.ts DID NOT RUN: promtool is not on PATH ' +
      '(apt-get install prometheus).\n',
  );
}

describe('the Grafana dashboard', () => {
  let s: Stage;
  let exposed: Set<string>;

  beforeAll(async () => {
    s = await stage({ config: { claude: { daily_budget_usd: 5 } } });
    await queueIssueEvent(s, 1);
    await queueIssueEvent(s, 2, { sender: { login: 'dependabot[bot]', type: 'Bot' } });
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);
    const metrics = await runHls(['stats', '--format', 'prometheus'], { env: s.env });
    expect(metrics.code, metrics.stderr).toBe(0);
    exposed = exposedSeries(metrics.stdout);
    // Control: the parse sees the histogram as Prometheus stores it.
    expect(exposed).toContain('hls_event_processing_seconds_bucket');
    expect(exposed).not.toContain('hls_event_processing_seconds');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('queries only series that hls stats --format prometheus emits', () => {
    const used = new Set(expressions.flatMap(metricNames));
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
    // What the dashboard is for: queue, throughput, processing time, cost and budget, limits, workers.
    for (const name of [
      'hls_queue_depth',
      'hls_oldest_due_age_seconds',
      'hls_event_processing_seconds_count',
      'hls_event_processing_seconds_bucket',
      'hls_model_cost_usd_total',
      'hls_budget_remaining_usd',
      'hls_ratelimit_remaining',
      'hls_ratelimit_limit',
      'hls_workers',
    ]) {
      expect(used, name).toContain(name);
    }
  });

  it.skipIf(!promtool)('every query parses as PromQL (promtool check rules)', () => {
    // Grafana replaces $__rate_interval before Prometheus sees the query.
    const rules = expressions.map((expr, i) => ({
      record: `hls:dashboard_query_${i}`,
      expr: expr.replaceAll('$__rate_interval', '5m'),
    }));
    const file = join(tempDir('hls-grafana-'), 'rules.yml');
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
    const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('is an importable dashboard: a Prometheus input, panels with targets on it, unique ids, no overlap', () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    expect(dashboard).toMatchObject({ title: 'hls', uid: expect.any(String), schemaVersion: expect.any(Number) });
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(queryPanels.length).toBeGreaterThanOrEqual(10);
    for (const panel of queryPanels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      expect(panel.targets!.length, panel.title).toBeGreaterThan(0);
      const refIds = panel.targets!.map((target) => target.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
      for (const target of panel.targets!) {
        expect(target.datasource, panel.title).toEqual(panel.datasource);
        expect(metricNames(target.expr).length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
      }
    }
    for (const [i, a] of dashboard.panels.entries()) {
      expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
      for (const b of dashboard.panels.slice(i + 1)) {
        const overlap =
          a.gridPos.x < b.gridPos.x + b.gridPos.w &&
          b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h &&
          b.gridPos.y < a.gridPos.y + a.gridPos.h;
        expect(overlap, `${a.title} overlaps ${b.title}`).toBe(false);
      }
    }
  });
});
