// `hls report`'s page in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core):
// it loads without errors or requests, draws a point per day, shows the totals of `hls stats --json`,
// and is readable in light, dark and print. Screenshots go to test-results/ for the test log.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runHls, tempDir } from './helpers/hls.js';
import type { Stage } from './helpers/pipeline.js';
import { filledStage } from './helpers/report-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const DAYS = 5;
const CHARTS = ['outcomes', 'cost-by-model', 'cost-by-repository', 'processing-time'];

if (!existsSync(CHROMIUM) && process.env.CI) {
  describe('hls report in Chromium', () => {
    it('needs Chromium', () => {
      throw new Error(`${CHROMIUM} is missing and CI is set: apt-get install chromium`);
    });
  });
} else if (!existsSync(CHROMIUM)) {
  console.warn(
    `\n*** WARNING: test/report-browser.test.ts DID NOT RUN: ${CHROMIUM} is missing (apt-get install chromium).\n`,
  );
  describe.skip('hls report in Chromium', () => {
    it('needs Chromium', () => {});
  });
} else {
  describe('hls report in Chromium', () => {
    let s: Stage;
    let launching: Promise<Browser> | undefined;
    let browser: Browser;
    let page: Page;
    let stats: { daily: Record<string, number>[] };
    const problems: string[] = [];
    const requests: string[] = [];
    let url: string;

    beforeAll(async () => {
      // Chromium starts while the pipeline fills the database.
      // As root (CI containers) Chromium refuses to start without --no-sandbox.
      launching = chromium.launch({
        executablePath: CHROMIUM,
        args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
      });
      s = await filledStage();
      const file = join(tempDir('hls-report-browser-'), 'report.html');
      const [report, statsRun] = await Promise.all([
        runHls(['report', '--days', String(DAYS), '--output', file], { env: s.env }),
        runHls(['stats', '--json', '--days', String(DAYS)], { env: s.env }),
      ]);
      expect(report.code, report.stderr).toBe(0);
      stats = JSON.parse(statsRun.stdout);
      url = pathToFileURL(file).href;
      browser = await launching;
      page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(url, { waitUntil: 'load' });
      // A pipeline run, two hls processes and Chromium's start: over 60 s once on a loaded CI machine.
    }, 120_000);

    afterAll(async () => {
      // Also when the fixture failed before the browser was awaited.
      await (await launching?.catch(() => undefined))?.close();
      await s?.close();
    });

    it('loads with no console error and no request but the file itself', async () => {
      expect(problems).toEqual([]);
      expect(requests).toEqual([url]);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    });

    it('draws one point per day of the window in every chart', async () => {
      const expected = Array.from({ length: DAYS }, (_, i) =>
        new Date(Date.now() - (DAYS - 1 - i) * 86_400_000).toISOString().slice(0, 10),
      );
      for (const chart of CHARTS) {
        const dates = await page
          .locator(`svg[data-chart="${chart}"] g.day`)
          .evaluateAll((days) => days.map((day) => day.getAttribute('data-date')));
        expect(dates, chart).toEqual(expected);
        // The chart is laid out: it has a size on the page.
        const box = await page.locator(`svg[data-chart="${chart}"]`).boundingBox();
        expect(box!.width, chart).toBeGreaterThan(300);
      }
      // Bars are drawn on the days that have events and costs, and the p50/p95 points on days with completions.
      const busyDays = stats.daily.length;
      const barsOn = (chart: string) =>
        page
          .locator(`svg[data-chart="${chart}"] g.day`)
          .evaluateAll((days) => days.filter((day) => day.querySelector('rect,circle')).length);
      expect(await barsOn('outcomes')).toBe(busyDays);
      expect(await barsOn('cost-by-model')).toBe(busyDays);
      expect(await barsOn('processing-time')).toBe(busyDays);
    });

    it('shows the totals of hls stats --json', async () => {
      const shown = async (key: string) => (await page.locator(`dd[data-total="${key}"]`).textContent())!;
      const sum = (field: string) => stats.daily.reduce((total, d) => total + d[field]!, 0);
      for (const field of ['events', 'completed', 'skipped', 'failed', 'analyses']) {
        expect(Number(await shown(field)), field).toBe(sum(field));
      }
      const cost = Number(await page.locator('dd[data-total="cost_usd"]').getAttribute('data-value'));
      expect(cost).toBeCloseTo(sum('cost_usd'), 10);
      expect(await shown('cost_usd')).toBe(`$${sum('cost_usd').toFixed(4)}`);
    });

    it('is readable in light, dark and print, and leaves screenshots for the log', async () => {
      const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const colour = () => page.evaluate(() => getComputedStyle(document.body).color);
      const shots = join(ROOT, 'test-results');
      mkdirSync(shots, { recursive: true });

      await page.emulateMedia({ colorScheme: 'light' });
      expect([await background(), await colour()]).toEqual(['rgb(255, 255, 255)', 'rgb(31, 35, 40)']);
      const light = join(shots, 'report-light.png');
      await page.screenshot({ path: light, fullPage: true });

      await page.emulateMedia({ colorScheme: 'dark' });
      expect([await background(), await colour()]).toEqual(['rgb(13, 17, 23)', 'rgb(230, 237, 243)']);
      const dark = join(shots, 'report-dark.png');
      await page.screenshot({ path: dark, fullPage: true });

      await page.emulateMedia({ colorScheme: 'dark', media: 'print' });
      expect([await background(), await colour()]).toEqual(['rgb(255, 255, 255)', 'rgb(0, 0, 0)']);
      console.info(`hls report screenshots: ${light} ${dark}`);
    });
  });
}
