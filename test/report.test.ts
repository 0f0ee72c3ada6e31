import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHls, tempDir } from './helpers/hls.js';
import type { Stage } from './helpers/pipeline.js';
import { filledStage, HOSTILE_PAUSE_REASON, HOSTILE_REASON, HOSTILE_REPOSITORY } from './helpers/report-fixture.js';

let s: Stage;
beforeAll(async () => {
  s = await filledStage();
});
afterAll(async () => {
  await s?.close();
});

const json = async (args: string[]) => {
  const result = await runHls(args, { env: s.env });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
};

const DAY_FIELDS = ['events', 'completed', 'failed', 'skipped', 'analyses', 'tokens'] as const;

describe.concurrent('hls report --json', () => {
  it('has every UTC day of the window, and the per-day figures and totals of hls stats --json', async () => {
    const [report, stats] = await Promise.all([
      json(['report', '--json', '--days', '5']),
      json(['stats', '--json', '--days', '5', '--since', '6d']),
    ]);
    const today = new Date().toISOString().slice(0, 10);
    const dates = report.daily.map((d: { date: string }) => d.date);
    expect(dates).toHaveLength(5);
    expect(dates.at(-1)).toBe(today);
    dates.forEach((date: string, i: number) => {
      if (i > 0) expect(Date.parse(date) - Date.parse(dates[i - 1])).toBe(86_400_000);
    });
    expect(report.window).toEqual({ first_day: dates[0], last_day: today, days: 5 });

    // The fixture spread events over today, one and three days back: day 2 and day 4 back are zeros.
    expect(stats.daily).toHaveLength(3);
    for (const day of report.daily) {
      const row = stats.daily.find((r: { date: string }) => r.date === day.date);
      for (const field of DAY_FIELDS) expect(day[field], `${day.date} ${field}`).toBe(row?.[field] ?? 0);
      expect(day.cost_usd).toBeCloseTo(row?.cost_usd ?? 0, 10);
    }
    const sum = (field: string) =>
      stats.daily.reduce((total: number, d: Record<string, number>) => total + d[field]!, 0);
    for (const field of DAY_FIELDS) expect(report.totals[field], field).toBe(sum(field));
    expect(report.totals.cost_usd).toBeCloseTo(sum('cost_usd'), 10);
    expect(report.totals).toMatchObject({ events: 9, completed: 6, failed: 1, skipped: 2, waiting: 0 });
    expect(report.totals.cost_usd).toBeGreaterThan(0);
    expect(report.totals.processing_ms).toEqual(stats.window_totals.processing_ms);
    expect(report.queue).toEqual(stats.queue);
    expect(report.workers).toEqual(stats.workers);
    expect(report.budget).toMatchObject({ ...stats.budget, daily_usd: 5, repositories: [] });
    expect(report.rate_limits.map(({ headroom: _, ...limit }: Record<string, unknown>) => limit)).toEqual(
      stats.rate_limits,
    );
  });

  it('breaks the days down by skip reason, failure, model and repository', async () => {
    const report = await json(['report', '--json', '--days', '5']);
    expect(report.top_skip_reasons).toEqual([
      { reason: HOSTILE_REASON, events: 1 },
      { reason: 'sender dependabot[bot] is a bot', events: 1 },
    ]);
    expect(report.top_failure_reasons).toHaveLength(1);
    expect(report.top_failure_reasons[0].reason).toMatch(/refus/);
    expect(report.cost_by_model).toEqual([
      { model: 'claude-sonnet-5-5', calls: 7, cost_usd: expect.closeTo(report.totals.cost_usd, 10) },
    ]);
    expect(
      report.cost_by_repository.map((r: { repository: string; calls: number }) => [r.repository, r.calls]),
    ).toEqual([
      ['octo-org/widgets', 6],
      [HOSTILE_REPOSITORY, 1],
    ]);
    const withCompleted = report.daily.filter((d: { completed: number }) => d.completed > 0);
    expect(withCompleted).toHaveLength(3);
    for (const day of withCompleted) {
      expect(day.processing_ms.count).toBe(day.completed);
      expect(day.processing_ms.p95).toBeGreaterThanOrEqual(day.processing_ms.p50);
      expect(Object.values(day.cost_by_model).reduce((a: number, b) => a + (b as number), 0)).toBeCloseTo(
        day.cost_usd,
        10,
      );
    }
    const quiet = report.daily.find((d: { events: number }) => d.events === 0);
    expect(quiet.processing_ms).toEqual({ count: 0, p50: null, p95: null });
    expect(report.pauses).toEqual([expect.objectContaining({ kind: 'github', reason: HOSTILE_PAUSE_REASON, hits: 2 })]);
    expect(report.workers.list.map((w: { id: string }) => w.id)).toEqual(['report-worker']);
  });
});

describe.concurrent('hls report (HTML)', () => {
  it('--output writes one page with a chart per figure and nothing to fetch, and prints nothing', async () => {
    const file = join(tempDir('hls-report-'), 'report.html');
    const result = await runHls(['report', '--days', '5', '--output', file], { env: s.env });
    expect(result).toMatchObject({ code: 0, stdout: '' });
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    for (const chart of ['outcomes', 'cost-by-model', 'cost-by-repository', 'processing-time']) {
      const svg = new RegExp(`<svg data-chart="${chart}"[\\s\\S]*?</svg>`).exec(html)?.[0] ?? '';
      expect(svg.match(/<g class="day" data-date="/g), chart).toHaveLength(5);
    }
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(html).toContain('prefers-color-scheme: dark');
    expect(html).toContain('@media print');
  });

  it('escapes repository names and reasons from the database', async () => {
    const stdout = (await runHls(['report', '--days', '5'], { env: s.env })).stdout;
    expect(stdout).not.toContain('<script');
    expect(stdout).not.toContain('<img');
    expect(stdout).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt; &amp; &quot;quoted&quot;');
    expect(stdout).toContain('&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;/x');
    expect(stdout).not.toContain('<b ');
    expect(stdout).toMatch(
      /github paused until \S+ \(2 hit\(s\)\): GitHub said &lt;b onmouseover=&quot;window.__pwned=1&quot;&gt;slow down&lt;\/b&gt;/,
    );
  });
});

describe.concurrent('hls report exit codes', () => {
  it.each([
    [['--days', '0'], 64, /days/],
    [['--days', 'many'], 64, /days/],
    [['--days', '367'], 64, /days/],
    [['--weeks', '2'], 64, /unknown option/],
  ])('%j is a usage error (64)', async (args, code, message) => {
    const result = await runHls(['report', ...args], { env: s.env });
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('a directory that does not exist for --output is 73, and no file is left', async () => {
    const file = join(tempDir('hls-report-'), 'missing', 'report.html');
    const result = await runHls(['report', '--output', file], { env: s.env });
    expect(result.code).toBe(73);
    expect(result.stderr).toMatch(/cannot write .*missing\/report\.html/);
    expect(existsSync(file)).toBe(false);
  });

  it('no database is 66', async () => {
    const dir = tempDir('hls-report-');
    const result = await runHls(['report', '--db', join(dir, 'none.db')], { env: { ...s.env, HLS_CONFIG: '' } });
    expect(result.code).toBe(66);
  });
});
