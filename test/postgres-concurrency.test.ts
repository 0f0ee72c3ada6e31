/**
 * Several `hls` processes on one PostgreSQL database at once, as on several hosts: worker processes
 * claiming events of the same threads, racing for the daily budget, and first starts migrating a new
 * database together. PostgreSQL only: SQLite serialises its writers, so none of these races exist there.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { billedAtWorstCase } from './helpers/anthropic-replies.js';
import { ROOT, runHls, tempDir, waitFor } from './helpers/hls.js';
import { issuePayload, writeBody } from './helpers/payloads.js';
import { queueIssueEvent, stage, type Stage } from './helpers/pipeline.js';
import { describeWithPostgres, postgresSuite, stopWorker } from './helpers/postgres-suite.js';
import { queueIssue, type Workspace } from './helpers/setup.js';

/** One successful run of the scripted handler, as its effects file records it with `record_times`. */
interface Run {
  pid: number;
  thread: string;
  start: number;
  end: number;
}

function runs(ws: Workspace): Run[] {
  const lines = existsSync(ws.effects) ? readFileSync(ws.effects, 'utf8').trim().split('\n').filter(Boolean) : [];
  return lines.map((line) => {
    const [, pid, , thread, start, end] = line.split(' ');
    return { pid: Number(pid), thread: thread!, start: Number(start), end: Number(end) };
  });
}

/** The most runs that were in the handler at the same moment. */
function peakConcurrency(all: Run[]): number {
  const edges = all.flatMap((r) => [
    { at: r.start, step: 1 },
    { at: r.end, step: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let current = 0;
  let peak = 0;
  for (const edge of edges) peak = Math.max(peak, (current += edge.step));
  return peak;
}

describeWithPostgres('test/postgres-concurrency.test.ts', 'several hls processes on one PostgreSQL database', () => {
  const pg = postgresSuite();
  let s: Stage | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('4 worker processes never run two events of one thread at once', async () => {
    const ws = pg.workspace();
    const threads = [11, 12, 13, 14, 15];
    const perThread = 4;
    // Round by round, so each thread's events are spread over the queue's claim order.
    for (let round = 0; round < perThread; round++) {
      await Promise.all(threads.map((n) => queueIssue(ws, { sleep_ms: 150, record_times: true }, n)));
    }
    const total = threads.length * perThread;

    const workers = [1, 2, 3, 4].map((n) => pg.startWorker(ws.env, ['--id', `w${n}`, '--concurrency', '2']));
    const doubled = new Set<string>();
    await waitFor(
      () => {
        const inFlight = pg.rows<{ thread_key: string }>(
          ws.db,
          `SELECT thread_key FROM webhook_events WHERE status = 'processing' GROUP BY thread_key HAVING count(*) > 1`,
        );
        for (const row of inFlight) doubled.add(row.thread_key);
        return pg.countEvents(ws.db, `status = 'completed'`) === total;
      },
      45_000,
      `all ${total} events completed`,
    );
    for (const worker of workers) expect((await stopWorker(worker)).code).toBe(0);

    expect([...doubled]).toEqual([]);
    const all = runs(ws);
    expect(all).toHaveLength(total);
    for (const thread of new Set(all.map((r) => r.thread))) {
      const ordered = all.filter((r) => r.thread === thread).sort((a, b) => a.start - b.start);
      expect(ordered).toHaveLength(perThread);
      for (let i = 1; i < ordered.length; i++) {
        expect(ordered[i]!.start, `${thread}: ${JSON.stringify(ordered)}`).toBeGreaterThanOrEqual(ordered[i - 1]!.end);
      }
    }
    // The rule was under pressure: events of different threads did run at once, in several processes.
    expect(new Set(all.map((r) => r.pid)).size).toBeGreaterThan(1);
    expect(peakConcurrency(all)).toBeGreaterThan(1);
  }, 90_000);

  it('3 racing worker processes together stay within the daily budget; the rest waits for the next UTC day', async () => {
    const maxTokens = 200;
    s = await stage({
      anthropic: { respond: billedAtWorstCase(maxTokens) },
      // Related-issue search off: the identical issues would offer each other, so prompts would differ.
      config: { claude: { max_tokens: maxTokens, daily_budget_usd: 100 }, similar: { enabled: false } },
    });
    const url = pg.cluster.createDatabase();
    s.env = { ...s.env, HLS_DB: url };

    // One call first, to learn what one call reserves (and, billed at its worst case, costs).
    await queueIssueEvent(s, 100);
    const probe = await runHls(['worker', '--once', '--id', 'probe'], { env: s.env });
    expect(probe.code, probe.stderr.slice(-2000)).toBe(0);
    const [first] = pg.rows<{ reserved_usd: number; actual_usd: number; day: string }>(
      url,
      'SELECT reserved_usd, actual_usd, day FROM budget_reservations',
    );
    const estimate = first!.reserved_usd;
    expect(first!.actual_usd).toBeCloseTo(estimate, 12);
    // The probe's call and exactly two more fit.
    const budget = 3.5 * estimate;
    const config = JSON.parse(readFileSync(s.config, 'utf8'));
    config.claude.daily_budget_usd = budget;
    writeFileSync(s.config, JSON.stringify(config));

    // Issue numbers as wide as the probe's: every prompt, so every estimate, is the same.
    const ids: number[] = [];
    for (const batch of [
      [101, 102, 103],
      [104, 105, 106],
      [107, 108, 109],
    ]) {
      ids.push(...(await Promise.all(batch.map((n) => queueIssueEvent(s!, n)))));
    }
    const results = await Promise.all(
      ['w1', 'w2', 'w3'].map((id) => pg.startWorker(s!.env, ['--once', '--id', id, '--concurrency', '2']).done),
    );
    for (const result of results) expect(result.code, result.stderr.slice(-2000)).toBe(0);

    const events = pg.rows<{ id: number; status: string; attempts: number; wait_reason: string | null }>(
      url,
      `SELECT id, status, attempts, wait_reason FROM webhook_events WHERE id IN (${ids.join(',')}) ORDER BY id`,
    );
    const why = JSON.stringify({ events, reservations: pg.rows(url, 'SELECT * FROM budget_reservations ORDER BY id') });
    const [committed] = pg.rows<{ usd: number }>(
      url,
      `SELECT sum(CASE state WHEN 'settled' THEN actual_usd WHEN 'reserved' THEN reserved_usd ELSE 0 END) AS usd
       FROM budget_reservations WHERE day = '${first!.day}'`,
    );
    expect(committed!.usd, why).toBeLessThanOrEqual(budget);
    expect(committed!.usd, why).toBeCloseTo(3 * estimate, 12);
    expect(s.anthropic.messageCalls(), why).toHaveLength(3);
    expect(
      events.filter((e) => e.status === 'completed'),
      why,
    ).toHaveLength(2);
    const waiting = events.filter((e) => e.status !== 'completed');
    expect(waiting, why).toHaveLength(7);
    for (const event of waiting) {
      expect(event, why).toMatchObject({
        status: 'pending',
        attempts: 0,
        wait_reason: `daily budget exhausted for ${first!.day}`,
      });
    }
  }, 90_000);

  it('10 hls queue processes starting at once on a new database migrate it once and store 10 events', async () => {
    const url = pg.cluster.createDatabase();
    const dir = tempDir('hls-pg-migrate-');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const body = writeBody(dir, `${i}.json`, issuePayload(40 + i));
        return runHls(['queue', '--event', 'issues', '--delivery', `migrate-${i}`, '--body-file', body], {
          env: { HLS_DB: url },
        });
      }),
    );
    for (const result of results) {
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^queued \d+ issues\.opened octo-org\/widgets\n$/);
    }
    const files = readdirSync(join(ROOT, 'migrations/postgres')).filter((f) => /^\d{3}_.*\.sql$/.test(f));
    const versions = pg.rows<{ version: number }>(url, 'SELECT version FROM hls_schema ORDER BY version');
    expect(versions.map((v) => v.version)).toEqual(files.map((_, i) => i + 1));
    expect(pg.countEvents(url, 'true')).toBe(10);
    expect(pg.countEvents(url, `delivery_id LIKE 'migrate-%'`)).toBe(10);
  });
});
