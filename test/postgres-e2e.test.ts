/**
 * The PostgreSQL backend end to end: real `hls` processes against a throwaway cluster, for the risks a
 * shared database brings — several processes claiming, reserving budget and migrating at once, a host
 * whose clock is off, LISTEN wake-ups, and the database going away mid-run. PostgreSQL only: SQLite
 * serialises its writers and has neither LISTEN nor a server to restart.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { billedAtWorstCase } from './helpers/anthropic-replies.js';
import { finished, ROOT, runHls, startHls, tempDir, waitFor, type RunResult } from './helpers/hls.js';
import { issuePayload, writeBody } from './helpers/payloads.js';
import { queueIssueEvent, stage, type Stage } from './helpers/pipeline.js';
import { startCluster, type Cluster } from './helpers/postgres-cluster.js';
import { describeWithPostgres, pgRows, POSTGRES_REQUIRED } from './helpers/postgres-suite.js';
import { queueIssue, workspace, type Workspace } from './helpers/setup.js';

interface EventRow {
  id: number;
  delivery_id: string;
  status: string;
  attempts: number;
  wait_reason: string | null;
  created_at: number;
  started_at: number | null;
}

interface HistoryRow {
  to_status: string;
  attempt: number;
  worker: string | null;
  error_class: string | null;
}

/** One successful run of the scripted handler, as its effects file records it with `record_times`. */
interface Run {
  delivery: string;
  pid: number;
  thread: string;
  start: number;
  end: number;
}

/**
 * libfaketime (Debian package `faketime`), preloaded straight into node: the `faketime` wrapper runs
 * its program as a child and does not pass SIGTERM on, so a worker started through it never stops.
 */
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib']
  .map((dir) => join(dir, 'faketime/libfaketime.so.1'))
  .find((path) => existsSync(path));

/** The environment that moves a process's clock by `offset` (libfaketime's syntax, e.g. '+5m'). */
const clockMoved = (offset: string): NodeJS.ProcessEnv => ({ LD_PRELOAD: LIBFAKETIME, FAKETIME: offset });

describeWithPostgres('test/postgres-e2e.test.ts', 'hls on PostgreSQL', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(() => cluster?.stop());

  const children: ChildProcess[] = [];
  let s: Stage | undefined;
  afterEach(async () => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await s?.close();
    s = undefined;
  });

  /**
   * A scripted-handler workspace whose database is a new PostgreSQL database (HLS_DB). Idle workers
   * poll every 250 ms (LISTEN wakes them for new events): 50 ms polls of several workers only load the
   * machine.
   */
  function pgWorkspace(queue: Record<string, number> = {}): Workspace {
    const ws = workspace({ poll_ms: 250, ...queue });
    const url = cluster.createDatabase();
    return { ...ws, db: url, env: { ...ws.env, HLS_DB: url } };
  }

  const rows = <T>(url: string, sql: string): T[] => pgRows<T>(cluster, url, sql);
  const eventById = (url: string, id: number): EventRow =>
    rows<EventRow>(url, `SELECT * FROM webhook_events WHERE id = ${Number(id)}`)[0]!;
  const historyOf = (url: string, id: number): HistoryRow[] =>
    rows<HistoryRow>(url, `SELECT * FROM event_history WHERE event_id = ${Number(id)} ORDER BY id`);
  const countWhere = (url: string, condition: string): number =>
    rows<{ n: number }>(url, `SELECT count(*) AS n FROM webhook_events WHERE ${condition}`)[0]!.n;

  interface Started {
    child: ChildProcess;
    done: Promise<RunResult>;
  }

  /** `hls worker …` as a real process. */
  function startWorker(env: NodeJS.ProcessEnv, args: string[]): Started {
    const child = startHls(['worker', ...args], { env });
    children.push(child);
    return { child, done: finished(child) };
  }

  /** SIGTERM, then the exit: a worker that stops cleanly exits 0. */
  async function stop(worker: Started): Promise<RunResult> {
    worker.child.kill('SIGTERM');
    return worker.done;
  }

  const effects = (ws: Workspace): string[] =>
    existsSync(ws.effects) ? readFileSync(ws.effects, 'utf8').trim().split('\n').filter(Boolean) : [];

  function runs(ws: Workspace): Run[] {
    return effects(ws).map((line) => {
      const [delivery, pid, , thread, start, end] = line.split(' ');
      return { delivery: delivery!, pid: Number(pid), thread: thread!, start: Number(start), end: Number(end) };
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

  it('4 worker processes never run two events of one thread at once', async () => {
    const ws = pgWorkspace();
    const threads = [11, 12, 13, 14, 15];
    const perThread = 4;
    // Round by round, so each thread's events are spread over the queue's claim order.
    for (let round = 0; round < perThread; round++) {
      await Promise.all(threads.map((n) => queueIssue(ws, { sleep_ms: 150, record_times: true }, n)));
    }
    const total = threads.length * perThread;

    const workers = [1, 2, 3, 4].map((n) => startWorker(ws.env, ['--id', `w${n}`, '--concurrency', '2']));
    const doubled = new Set<string>();
    await waitFor(
      () => {
        const inFlight = rows<{ thread_key: string }>(
          ws.db,
          `SELECT thread_key FROM webhook_events WHERE status = 'processing' GROUP BY thread_key HAVING count(*) > 1`,
        );
        for (const row of inFlight) doubled.add(row.thread_key);
        return countWhere(ws.db, `status = 'completed'`) === total;
      },
      45_000,
      `all ${total} events completed`,
    );
    for (const worker of workers) expect((await stop(worker)).code).toBe(0);

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
  }, 60_000);

  it('3 racing worker processes together stay within the daily budget; the rest waits for the next UTC day', async () => {
    const maxTokens = 200;
    s = await stage({
      anthropic: { respond: billedAtWorstCase(maxTokens) },
      config: { claude: { max_tokens: maxTokens, daily_budget_usd: 100 } },
    });
    const url = cluster.createDatabase();
    s.env = { ...s.env, HLS_DB: url };

    // One call first, to learn what one call reserves (and, billed at its worst case, costs).
    await queueIssueEvent(s, 100);
    const probe = await runHls(['worker', '--once', '--id', 'probe'], { env: s.env });
    expect(probe.code, probe.stderr.slice(-2000)).toBe(0);
    const [first] = rows<{ reserved_usd: number; actual_usd: number; day: string }>(
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
      ['w1', 'w2', 'w3'].map((id) => startWorker(s!.env, ['--once', '--id', id, '--concurrency', '2']).done),
    );
    for (const result of results) expect(result.code, result.stderr.slice(-2000)).toBe(0);

    const events = rows<EventRow>(url, `SELECT * FROM webhook_events WHERE id IN (${ids.join(',')}) ORDER BY id`);
    const why = JSON.stringify({ events, reservations: rows(url, 'SELECT * FROM budget_reservations ORDER BY id') });
    const [committed] = rows<{ usd: number }>(
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
  }, 60_000);

  it.skipIf(!LIBFAKETIME && !POSTGRES_REQUIRED)(
    'a worker whose clock is 5 minutes ahead takes no live lease',
    async () => {
      if (!LIBFAKETIME) throw new Error('libfaketime is not installed: apt-get install faketime');
      // The premise: libfaketime moves the clock Node reads.
      const shifted = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(Date.now()))'], {
        env: { ...process.env, ...clockMoved('+5m') },
        encoding: 'utf8',
      });
      expect(Number(shifted.stdout) - Date.now()).toBeGreaterThan(290_000);

      const ws = pgWorkspace({ lease_seconds: 2 });
      const long = await queueIssue(ws, { sleep_ms: 8000 }, 21);
      const steady = startWorker(ws.env, ['--id', 'steady', '--concurrency', '1']);
      await waitFor(() => eventById(ws.db, long).status === 'processing', 15_000, 'the long event to be claimed');
      const ahead = startWorker({ ...ws.env, ...clockMoved('+5m') }, ['--id', 'ahead', '--concurrency', '1']);

      // The fast-clock worker does work: it takes the next event, of another thread.
      const short = await queueIssue(ws, {}, 22);
      await waitFor(() => eventById(ws.db, short).status === 'completed', 15_000, 'the short event');
      expect(historyOf(ws.db, short).at(-1)).toMatchObject({ to_status: 'completed', worker: 'ahead' });

      // Done, or taken over: either way its history says which.
      await waitFor(
        () =>
          eventById(ws.db, long).status === 'completed' ||
          historyOf(ws.db, long).some((h) => h.error_class === 'lease_expired'),
        20_000,
        'the long event to complete',
      );
      expect(historyOf(ws.db, long).map((h) => [h.to_status, h.attempt, h.worker, h.error_class])).toEqual([
        ['pending', 0, null, null],
        ['processing', 1, 'steady', null],
        ['completed', 1, 'steady', null],
      ]);
      expect(rows(ws.db, `SELECT * FROM event_history WHERE error_class = 'lease_expired'`)).toEqual([]);
      const longRuns = effects(ws).filter((line) => line.startsWith(eventById(ws.db, long).delivery_id));
      expect(longRuns).toEqual([`${eventById(ws.db, long).delivery_id} ${steady.child.pid} 1`]);

      expect((await stop(ahead)).code).toBe(0);
      expect((await stop(steady)).code).toBe(0);
    },
    60_000,
  );

  it('an idle worker LISTENs: a new event is claimed long before its 30 s poll', async () => {
    const ws = pgWorkspace({ poll_ms: 30_000 });
    const worker = startWorker(ws.env, ['--id', 'listener']);
    // Once the first event is done the worker is idle, its next poll 30 s away.
    const first = await queueIssue(ws, {}, 31);
    await waitFor(() => eventById(ws.db, first).status === 'completed', 30_000, 'the first event');
    await new Promise((r) => setTimeout(r, 500));

    const second = await queueIssue(ws, {}, 32);
    await waitFor(() => eventById(ws.db, second).status === 'completed', 5_000, 'the second event, woken by NOTIFY');
    const row = eventById(ws.db, second);
    expect(row.started_at! - row.created_at).toBeLessThan(5_000);
    expect((await stop(worker)).code).toBe(0);
  }, 60_000);

  it('10 hls queue processes starting at once on a new database migrate it once and store 10 events', async () => {
    const url = cluster.createDatabase();
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
    const versions = rows<{ version: number }>(url, 'SELECT version FROM hls_schema ORDER BY version');
    expect(versions.map((v) => v.version)).toEqual(files.map((_, i) => i + 1));
    expect(countWhere(url, 'true')).toBe(10);
    expect(countWhere(url, `delivery_id LIKE 'migrate-%'`)).toBe(10);
  });

  it('a database restart mid-run: workers reconnect, every event completes once, hls queue exits 75 meanwhile', async () => {
    const ws = pgWorkspace({ lease_seconds: 3 });
    const ids: number[] = [];
    for (let n = 51; n <= 56; n++) ids.push(await queueIssue(ws, { sleep_ms: 1000 }, n));
    const workers = ['r1', 'r2'].map((id) => startWorker(ws.env, ['--id', id, '--concurrency', '2']));
    await waitFor(() => countWhere(ws.db, `status = 'completed'`) >= 2, 30_000, 'the first events completed');

    // restart() stops the server before it first yields and starts it 10 s later: longer than the 8 s
    // deadline of `hls queue`, so the run below ends while the server is down.
    const restarting = cluster.restart({ downMs: 10_000 });
    const body = writeBody(ws.dir, 'outage.json', issuePayload(59));
    const during = await runHls(['queue', '--event', 'issues', '--delivery', 'during-outage', '--body-file', body], {
      env: ws.env,
    });
    await restarting;
    expect(during.code, during.stdout).toBe(75);
    expect(during.stdout).toMatch(/^error: [^\n]*\n$/);
    expect(countWhere(ws.db, `delivery_id = 'during-outage'`)).toBe(0);

    const after = await runHls(['queue', '--event', 'issues', '--delivery', 'after-outage', '--body-file', body], {
      env: ws.env,
    });
    expect(after.code, after.stdout).toBe(0);
    ids.push(Number(/^queued (\d+) /.exec(after.stdout)![1]));

    await waitFor(
      () => countWhere(ws.db, `status = 'completed'`) === ids.length,
      40_000,
      `all ${ids.length} events completed after the restart`,
    );
    for (const worker of workers) {
      const exited = worker.child.exitCode !== null || worker.child.signalCode !== null;
      // A worker that exited shows why.
      expect(exited ? (await worker.done).stderr.slice(-3000) : 'running').toBe('running');
    }
    expect(countWhere(ws.db, `status <> 'completed'`)).toBe(0);
    const completions = rows<{ event_id: number; n: number }>(
      ws.db,
      `SELECT event_id, count(*) AS n FROM event_history WHERE to_status = 'completed' GROUP BY event_id ORDER BY event_id`,
    );
    expect(completions).toEqual(ids.map((id) => ({ event_id: id, n: 1 })));
    for (const worker of workers) expect((await stop(worker)).code).toBe(0);
  }, 90_000);

  it('database.url in the config, HLS_DATABASE_URL and --db each select PostgreSQL', async () => {
    const url = cluster.createDatabase();
    const dir = tempDir('hls-pg-select-');
    const config = join(dir, 'settings.yaml');
    writeFileSync(config, JSON.stringify({ database: { url } }));
    const ways: Array<[string, string[], NodeJS.ProcessEnv]> = [
      ['config', [], { HLS_CONFIG: config }],
      ['env', [], { HLS_DATABASE_URL: url }],
      ['flag', ['--db', url], {}],
    ];
    for (const [delivery, flags, env] of ways) {
      const body = writeBody(dir, `${delivery}.json`, issuePayload(60));
      const result = await runHls(
        ['queue', '--event', 'issues', '--delivery', delivery, '--body-file', body, ...flags],
        {
          env,
          cwd: dir,
        },
      );
      expect(result.code, `${delivery}: ${result.stdout}`).toBe(0);
    }
    expect(rows<{ delivery_id: string }>(url, 'SELECT delivery_id FROM webhook_events ORDER BY id')).toEqual([
      { delivery_id: 'config' },
      { delivery_id: 'env' },
      { delivery_id: 'flag' },
    ]);
    expect(existsSync(join(dir, 'hls.db'))).toBe(false);
  });
});
