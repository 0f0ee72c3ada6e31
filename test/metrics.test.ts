// `hls stats --format prometheus` after a real worker run against the loopback fakes: the figures must
// equal the database rows and the requests the fakes received, and promtool must accept the output.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, runHls, tempDir } from './helpers/hls.js';
import { SPEND_LIMIT_REPLY } from '../src/simulators/anthropic.js';
import { queueIssueEvent, queuePayload, stage, type Stage } from './helpers/pipeline.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  samples: Sample[];
  help: string[];
  types: Map<string, string>;
}

/** Reads the text exposition format back: samples, HELP names and TYPE per family. */
function parseExposition(text: string): Exposition {
  const parsed: Exposition = { samples: [], help: [], types: new Map() };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'HELP') parsed.help.push(meta[2]!);
      else parsed.types.set(meta[2]!, meta[3]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    parsed.samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return parsed;
}

const select = (e: Exposition, name: string, labels: Record<string, string> = {}) =>
  e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

/** The one sample of `name` with exactly these labels. */
function value(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = e.samples.filter(
    (s) =>
      s.name === name &&
      JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()),
  );
  expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0]!.value;
}

/** GitHub's route templates for the paths an issue triage requests. */
function githubRoute(method: string, path: string): string {
  const route = path
    .replace(/^\/repos\/[^/]+\/[^/]+/, '/repos/{owner}/{repo}')
    .replace(/\/labels\/[^/]+/, '/labels/{name}')
    .replace(/\/contents\/.+$/, '/contents/{path}')
    .replace(/\/\d+(?=\/|$)/g, '/{id}');
  return `${method} ${route}`;
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

const promtool = onPath('promtool');
const promtoolRequired = Boolean(process.env.HLS_REQUIRE_PROMTOOL);
if (!promtool && !promtoolRequired) {
  console.warn('\n*** WARNING: promtool is not on PATH: test/metrics.test.ts does not check the output with it.\n');
}

let s: Stage;
let before: number;
let text: string;
let metrics: Exposition;

/** Two issues triaged, one whose comment GitHub refuses (failed), one push (skipped): one worker pass. */
beforeAll(async () => {
  // One event at a time, so that the latest rate-limit readings are those of the last requests.
  s = await stage({ config: { claude: { daily_budget_usd: 5 }, queue: { concurrency: 1 } } });
  await queueIssueEvent(s, 1);
  await queueIssueEvent(s, 2);
  s.github.failNext({ method: 'POST', path: /\/issues\/3\/comments$/ }, { status: 404 });
  await queueIssueEvent(s, 3);
  await queuePayload(s, 'push', { ref: 'refs/heads/main' });
  const worker = await runHls(['worker', '--once', '--id', 'metrics-worker'], { env: s.env });
  expect(worker.code, worker.stderr).toBe(0);
  before = Date.now();
  const result = await runHls(['stats', '--format', 'prometheus'], { env: s.env });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe('');
  text = result.stdout;
  metrics = parseExposition(text);
});

afterAll(async () => {
  await s.close();
});

describe('hls stats --format prometheus', () => {
  it('counts the events in the database by type and status, and the queue', () => {
    const rows = query<{ event_type: string; status: string; n: number }>(
      s.db,
      'SELECT event_type, status, count(*) AS n FROM webhook_events GROUP BY 1, 2',
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { event_type: 'issues', status: 'completed', n: 2 },
        { event_type: 'issues', status: 'failed', n: 1 },
        { event_type: 'push', status: 'skipped', n: 1 },
      ]),
    );
    for (const row of rows)
      expect(value(metrics, 'hls_events', { event: row.event_type, status: row.status })).toBe(row.n);
    // Every status of each event type is there, zeros included.
    expect(select(metrics, 'hls_events')).toHaveLength(2 * 6);
    expect(value(metrics, 'hls_events', { event: 'push', status: 'failed' })).toBe(0);
    for (const status of ['pending', 'retry', 'processing']) {
      expect(value(metrics, 'hls_queue_depth', { status })).toBe(0);
    }
    expect(value(metrics, 'hls_oldest_due_age_seconds')).toBe(0);
  });

  it('exports the ledger as counters equal to its rows', () => {
    const ledger = query<{ model: string; outcome: string; n: number; tokens: number; cost: number }>(
      s.db,
      `SELECT model, outcome, count(*) AS n, sum(claude_tokens_used) AS tokens, sum(claude_cost_usd) AS cost
         FROM claude_analyses WHERE outcome != 'not_sent' GROUP BY 1, 2`,
    );
    expect(ledger).toHaveLength(1);
    const [row] = ledger;
    expect(row).toMatchObject({ model: 'claude-sonnet-5-5', outcome: 'ok', n: 3 });
    expect(value(metrics, 'hls_model_requests_total', { model: row!.model, outcome: 'ok' })).toBe(3);
    const types = query<Record<string, number>>(
      s.db,
      `SELECT sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cache_write_tokens) AS cache_write,
              sum(cache_read_tokens) AS cache_read FROM claude_analyses`,
    )[0]!;
    for (const [type, tokens] of Object.entries(types)) {
      expect(value(metrics, 'hls_model_tokens_total', { model: row!.model, type }), type).toBe(tokens);
    }
    expect(types.input! + types.output! + types.cache_write! + types.cache_read!).toBe(row!.tokens);
    expect(value(metrics, 'hls_model_cost_usd_total', { model: row!.model })).toBeCloseTo(row!.cost, 12);
    const committed = query<{ usd: number }>(
      s.db,
      `SELECT sum(coalesce(actual_usd, reserved_usd)) AS usd FROM budget_reservations WHERE state != 'released'`,
    )[0]!.usd;
    expect(committed).toBeCloseTo(row!.cost, 12);
    expect(value(metrics, 'hls_budget_remaining_usd', { scope: 'all' })).toBeCloseTo(5 - committed, 12);
  });

  it('has a processing-time histogram per event type and outcome, consistent with the events', () => {
    expect(value(metrics, 'hls_event_processing_seconds_count', { event: 'issues', outcome: 'completed' })).toBe(2);
    expect(value(metrics, 'hls_event_processing_seconds_count', { event: 'issues', outcome: 'failed' })).toBe(1);
    expect(value(metrics, 'hls_event_processing_seconds_count', { event: 'push', outcome: 'skipped' })).toBe(1);
    expectHistogramsConsistent('hls_event_processing_seconds');
  });

  it('counts the GitHub requests by route and status as the fake received them', () => {
    const received = countBy(s.github.requests, (r) => `${githubRoute(r.method, r.path)} ${r.status}`);
    expect(received).toMatchObject({
      'POST /repos/{owner}/{repo}/issues/{id}/comments 201': 2,
      'POST /repos/{owner}/{repo}/issues/{id}/comments 404': 1,
    });
    const exported = Object.fromEntries(
      select(metrics, 'hls_github_requests_total').map((m) => [`${m.labels.route} ${m.labels.status}`, m.value]),
    );
    expect(exported).toEqual(received);
    for (const m of select(metrics, 'hls_github_requests_total')) {
      expect(value(metrics, 'hls_github_request_duration_seconds_count', m.labels)).toBe(m.value);
    }
    expectHistogramsConsistent('hls_github_request_duration_seconds');
  });

  it('counts the Anthropic requests by status as the fake received them', () => {
    // count_tokens (the budget's estimate) and messages: every one answered 200.
    expect(s.anthropic.requests.length).toBe(6);
    const byStatus: Record<string, number> = {};
    for (const m of select(metrics, 'hls_anthropic_requests_total')) {
      byStatus[m.labels.status!] = (byStatus[m.labels.status!] ?? 0) + m.value;
    }
    expect(byStatus).toEqual({ 200: s.anthropic.requests.length });
    const durations = select(metrics, 'hls_anthropic_request_duration_seconds_count');
    expect(durations.reduce((total, m) => total + m.value, 0)).toBe(s.anthropic.requests.length);
    expectHistogramsConsistent('hls_anthropic_request_duration_seconds');
  });

  it('exports the latest rate-limit readings without a key label when there is one key per API', () => {
    expect(value(metrics, 'hls_ratelimit_limit', { api: 'github', resource: 'core' })).toBe(5000);
    // The fake counts every authenticated request but GET /rate_limit.
    expect(value(metrics, 'hls_ratelimit_remaining', { api: 'github', resource: 'core' })).toBe(
      5000 - s.github.requests.filter((r) => r.path !== '/rate_limit').length,
    );
    expect(value(metrics, 'hls_ratelimit_limit', { api: 'anthropic', resource: 'requests' })).toBe(4000);
    expect(value(metrics, 'hls_ratelimit_remaining', { api: 'anthropic', resource: 'requests' })).toBe(4000 - 3);
    for (const resource of ['tokens', 'input-tokens', 'output-tokens']) {
      expect(select(metrics, 'hls_ratelimit_limit', { api: 'anthropic', resource })).toHaveLength(1);
    }
    for (const reset of select(metrics, 'hls_ratelimit_reset_timestamp_seconds')) {
      expect(reset.value * 1000).toBeGreaterThan(before - 1000);
    }
    expect(select(metrics, 'hls_ratelimit_remaining').every((m) => !('key' in m.labels))).toBe(true);
    expect(text).not.toContain('ghp_test');
    expect(text).not.toContain('sk-ant-test');
  });

  it('reports pauses, workers and when it was generated', () => {
    for (const kind of ['github', 'anthropic', 'anthropic_spend']) {
      expect(value(metrics, 'hls_api_paused', { scope_kind: kind })).toBe(0);
    }
    expect(value(metrics, 'hls_workers', { state: 'live' })).toBe(0);
    expect(value(metrics, 'hls_workers', { state: 'stale' })).toBe(0);
    expect(value(metrics, 'hls_workers', { state: 'stopped' })).toBe(1);
    const generated = value(metrics, 'hls_stats_generated_timestamp_seconds') * 1000;
    expect(generated).toBeGreaterThanOrEqual(before);
    expect(generated).toBeLessThanOrEqual(Date.now());
  });

  it('writes HELP and TYPE once per family, counters ending in _total', () => {
    expect(new Set(metrics.help).size).toBe(metrics.help.length);
    expect([...metrics.types.keys()].sort()).toEqual([...metrics.help].sort());
    for (const [name, type] of metrics.types) {
      expect(name).toMatch(/^hls_[a-z_]+$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      else expect(name).not.toMatch(/_total$/);
    }
    for (const sample of metrics.samples) {
      const family = sample.name.replace(/_(bucket|sum|count)$/, '');
      expect(metrics.types.has(sample.name) || metrics.types.get(family) === 'histogram', sample.name).toBe(true);
    }
  });

  it.skipIf(!promtool && !promtoolRequired)('passes promtool check metrics', () => {
    if (!promtool)
      throw new Error('promtool is not on PATH and HLS_REQUIRE_PROMTOOL is set: apt-get install prometheus');
    const result = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('hls stats --format prometheus --output', () => {
  it('replaces the file atomically, mode 0644, and prints nothing', async () => {
    const dir = tempDir('hls-textfile-');
    const file = join(dir, 'hls.prom');
    for (let run = 0; run < 2; run++) {
      const result = await runHls(['stats', '--format', 'prometheus', '--output', file], { env: s.env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout + result.stderr).toBe('');
      expect(readdirSync(dir)).toEqual(['hls.prom']);
      expect(statSync(file).mode & 0o777).toBe(0o644);
    }
    const written = parseExposition(readFileSync(file, 'utf8'));
    const withoutTime = (e: Exposition) => e.samples.filter((m) => m.name !== 'hls_stats_generated_timestamp_seconds');
    expect(withoutTime(written)).toEqual(withoutTime(metrics));
  });

  it('leaves no temp file behind when it cannot write (exit 73)', async () => {
    const dir = tempDir('hls-textfile-');
    const occupied = join(dir, 'hls.prom');
    mkdirSync(join(occupied, 'inside'), { recursive: true });
    const result = await runHls(['stats', '--format', 'prometheus', '--output', occupied], { env: s.env });
    expect(result.code).toBe(73);
    expect(result.stderr).toMatch(/^error: cannot write .*hls\.prom: /);
    expect(result.stdout).toBe('');
    expect(readdirSync(dir)).toEqual(['hls.prom']);
    const missing = await runHls(['stats', '--format', 'prometheus', '--output', join(dir, 'no/such/dir.prom')], {
      env: s.env,
    });
    expect(missing.code).toBe(73);
  });

  it('refuses combinations that make no sense with exit 64', async () => {
    for (const args of [
      ['--json', '--format', 'text'],
      ['--format', 'xml'],
      ['--output', join(s.dir, 'x.prom')],
      ['--format', 'json', '--output', join(s.dir, 'x.prom')],
      ['--check', '--format', 'prometheus'],
      ['--check', '--json'],
    ]) {
      const result = await runHls(['stats', ...args], { env: s.env });
      expect(result.code, args.join(' ')).toBe(64);
      expect(result.stderr, args.join(' ')).toMatch(/^error: /);
      expect(result.stdout).toBe('');
    }
    expect(readdirSync(s.dir).filter((name) => name.endsWith('.prom'))).toEqual([]);
  });

  it('--json is --format json', async () => {
    const json = await runHls(['stats', '--json'], { env: s.env });
    const format = await runHls(['stats', '--format', 'json'], { env: s.env });
    const shape = (stdout: string) => ({ ...JSON.parse(stdout), generated_at: null, window: null });
    expect(shape(format.stdout)).toEqual(shape(json.stdout));
  });
});

describe('hls stats rate limits and pauses (text and --json)', () => {
  it('lists the latest reading per API and resource, with a key id but never the key', async () => {
    const result = await runHls(['stats', '--json'], { env: s.env });
    const report = JSON.parse(result.stdout);
    expect(report.pauses).toEqual([]);
    const core = report.rate_limits.find(
      (r: { api: string; resource: string }) => r.api === 'github' && r.resource === 'core',
    );
    expect(core).toEqual({
      api: 'github',
      resource: 'core',
      key: expect.stringMatching(/^[0-9a-f]{12}$/),
      limit: 5000,
      remaining: value(metrics, 'hls_ratelimit_remaining', { api: 'github', resource: 'core' }),
      reset: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(report.rate_limits.map((r: { api: string; resource: string }) => `${r.api} ${r.resource}`).sort()).toEqual([
      'anthropic input-tokens',
      'anthropic output-tokens',
      'anthropic requests',
      'anthropic tokens',
      'github core',
    ]);
    const keys = query<{ key_sha256: string }>(s.db, 'SELECT DISTINCT key_sha256 FROM rate_limit_history');
    for (const { key_sha256 } of keys) expect(result.stdout).not.toContain(key_sha256);
    expect(result.stdout).not.toMatch(/ghp_test|sk-ant-test/);

    const lines = (await runHls(['stats'], { env: s.env })).stdout;
    expect(lines).toMatch(/^ {2}github core {2}\d+\/5000 left {2}resets \d{4}-\S+Z$/m);
    expect(lines).toMatch(/^ {2}anthropic requests {2}3997\/4000 left/m);
    expect(lines).toMatch(/^pauses +none$/m);
  });
});

describe('an Anthropic spend limit', () => {
  it('shows as a pause in hls_api_paused, --json and the text', async () => {
    const spend = await stage({
      anthropic: { respond: () => SPEND_LIMIT_REPLY },
    });
    try {
      await queueIssueEvent(spend, 7);
      expect((await runHls(['worker', '--once'], { env: spend.env })).code).toBe(0);
      const exposition = parseExposition(
        (await runHls(['stats', '--format', 'prometheus'], { env: spend.env })).stdout,
      );
      expect(value(exposition, 'hls_api_paused', { scope_kind: 'anthropic_spend' })).toBe(1);
      expect(value(exposition, 'hls_api_paused', { scope_kind: 'github' })).toBe(0);
      const refused = select(exposition, 'hls_anthropic_requests_total', { status: '429' });
      expect(refused.reduce((total, m) => total + m.value, 0)).toBe(1);
      const report = JSON.parse((await runHls(['stats', '--json'], { env: spend.env })).stdout);
      expect(report.pauses).toEqual([
        {
          kind: 'anthropic_spend',
          key: expect.stringMatching(/^[0-9a-f]{12}$/),
          until: expect.stringMatching(/Z$/),
          reason: expect.stringMatching(/spend limit/i),
          hits: 1,
        },
      ]);
      expect(Date.parse(report.pauses[0].until)).toBeGreaterThan(Date.now());
      const lines = (await runHls(['stats'], { env: spend.env })).stdout;
      expect(lines).toMatch(/^pauses +1 active$/m);
      expect(lines).toMatch(/^ {2}anthropic_spend {2}until \S+Z {2}hits 1 {2}.*spend limit/im);
    } finally {
      await spend.close();
    }
  });
});

describe('label values', () => {
  it('escapes a backslash, a double quote and a line feed (a model name with all three)', async () => {
    const model = 'lab\\"model"\nv2';
    const price = { input: 1, cache_write_5m: 1, cache_write_1h: 1, cache_read: 1, output: 1 };
    const odd = await stage({ config: { claude: { model, prices: { [model]: price } } } });
    try {
      await queueIssueEvent(odd, 8);
      expect((await runHls(['worker', '--once'], { env: odd.env })).code).toBe(0);
      const result = await runHls(['stats', '--format', 'prometheus'], { env: odd.env });
      expect(result.stdout).toContain('hls_model_requests_total{model="lab\\\\\\"model\\"\\nv2",outcome="ok"} 1\n');
      expect(value(parseExposition(result.stdout), 'hls_model_cost_usd_total', { model })).toBeGreaterThan(0);
      if (promtool) expect(spawnSync(promtool, ['check', 'metrics'], { input: result.stdout }).status).toBe(0);
    } finally {
      await odd.close();
    }
  });
});

/** Cumulative buckets never decrease, +Inf equals _count, and each series has a _sum. */
function expectHistogramsConsistent(name: string): void {
  const counts = select(metrics, `${name}_count`);
  expect(counts.length).toBeGreaterThan(0);
  for (const count of counts) {
    const buckets = select(metrics, `${name}_bucket`, count.labels).filter(
      (b) => Object.keys(b.labels).length === Object.keys(count.labels).length + 1,
    );
    expect(buckets.at(-1)!.labels.le).toBe('+Inf');
    expect(buckets.at(-1)!.value).toBe(count.value);
    const values = buckets.map((b) => b.value);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(select(metrics, `${name}_sum`, count.labels)).toHaveLength(1);
  }
}
