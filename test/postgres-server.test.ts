/**
 * Workers and their PostgreSQL server: the three ways to select it, the server's clock against a
 * host's, LISTEN wake-ups, and the server restarting under running workers. PostgreSQL only: SQLite
 * has no server, no LISTEN, and its clock is the host's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runHls, tempDir, waitFor } from './helpers/hls.js';
import { issuePayload, writeBody } from './helpers/payloads.js';
import { describeWithPostgres, postgresSuite, POSTGRES_REQUIRED, stopWorker } from './helpers/postgres-suite.js';
import { queueIssue, type Workspace } from './helpers/setup.js';

interface EventRow {
  id: number;
  delivery_id: string;
  status: string;
  created_at: number;
  started_at: number | null;
}

interface HistoryRow {
  to_status: string;
  attempt: number;
  worker: string | null;
  error_class: string | null;
}

/**
 * libfaketime (Debian package `faketime`), preloaded straight into node: the `faketime` wrapper runs
 * its program as a child and does not pass SIGTERM on, so a worker started through it never stops.
 */
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib']
  .map((dir) => join(dir, 'faketime/libfaketime.so.1'))
  .find((path) => existsSync(path));

if (!LIBFAKETIME && !POSTGRES_REQUIRED) {
  console.warn(
    '\n*** WARNING: test/postgres-server.test.ts skips the clock-skew test: libfaketime is not installed ' +
      '(Debian package `faketime`).\n*** Install it, or set HLS_REQUIRE_POSTGRES=1 to make this an error.\n',
  );
}

/** The environment that moves a process's clock by `offset` (libfaketime's syntax, e.g. '+5m'). */
const clockMoved = (offset: string): NodeJS.ProcessEnv => ({ LD_PRELOAD: LIBFAKETIME, FAKETIME: offset });

describeWithPostgres('test/postgres-server.test.ts', 'hls workers and their PostgreSQL server', () => {
  const pg = postgresSuite();
  const eventById = (url: string, id: number): EventRow =>
    pg.rows<EventRow>(url, `SELECT * FROM webhook_events WHERE id = ${Number(id)}`)[0]!;
  const historyOf = (url: string, id: number): HistoryRow[] =>
    pg.rows<HistoryRow>(url, `SELECT * FROM event_history WHERE event_id = ${Number(id)} ORDER BY id`);
  const effects = (ws: Workspace): string[] =>
    existsSync(ws.effects) ? readFileSync(ws.effects, 'utf8').trim().split('\n').filter(Boolean) : [];

  it('database.url in the config, HLS_DATABASE_URL and --db each select PostgreSQL', async () => {
    const url = pg.cluster.createDatabase();
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
      const args = ['queue', '--event', 'issues', '--delivery', delivery, '--body-file', body, ...flags];
      const result = await runHls(args, { env, cwd: dir });
      expect(result.code, `${delivery}: ${result.stdout}`).toBe(0);
    }
    expect(pg.rows(url, 'SELECT delivery_id FROM webhook_events ORDER BY id')).toEqual([
      { delivery_id: 'config' },
      { delivery_id: 'env' },
      { delivery_id: 'flag' },
    ]);
    expect(existsSync(join(dir, 'hls.db'))).toBe(false);
  });

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

      // A 2 s lease, kept alive by heartbeats through a 15 s event (the second worker starts meanwhile,
      // however loaded the machine).
      const ws = pg.workspace({ lease_seconds: 2 });
      const long = await queueIssue(ws, { sleep_ms: 15_000 }, 21);
      const steady = pg.startWorker(ws.env, ['--id', 'steady', '--concurrency', '1']);
      await waitFor(() => eventById(ws.db, long).status === 'processing', 15_000, 'the long event to be claimed');
      // The fast-clock worker does work: once it is up, it takes the next event, of another thread, while
      // steady is busy.
      const ahead = pg.startWorker({ ...ws.env, ...clockMoved('+5m') }, ['--id', 'ahead', '--concurrency', '1']);
      await waitFor(() => pg.rows(ws.db, `SELECT id FROM workers WHERE id = 'ahead'`).length === 1, 15_000, 'ahead');
      const short = await queueIssue(ws, {}, 22);
      await waitFor(() => eventById(ws.db, short).status === 'completed', 15_000, 'the short event');
      expect(historyOf(ws.db, short).at(-1)).toMatchObject({ to_status: 'completed', worker: 'ahead' });

      // Done, or taken over: either way its history says which.
      await waitFor(
        () =>
          eventById(ws.db, long).status === 'completed' ||
          historyOf(ws.db, long).some((h) => h.error_class === 'lease_expired'),
        25_000,
        'the long event to complete',
      );
      expect(historyOf(ws.db, long).map((h) => [h.to_status, h.attempt, h.worker, h.error_class])).toEqual([
        ['pending', 0, null, null],
        ['processing', 1, 'steady', null],
        ['completed', 1, 'steady', null],
      ]);
      expect(pg.rows(ws.db, `SELECT * FROM event_history WHERE error_class = 'lease_expired'`)).toEqual([]);
      const delivery = eventById(ws.db, long).delivery_id;
      expect(effects(ws).filter((line) => line.startsWith(`${delivery} `))).toEqual([
        `${delivery} ${steady.child.pid} 1`,
      ]);

      expect((await stopWorker(ahead)).code).toBe(0);
      expect((await stopWorker(steady)).code).toBe(0);
    },
    90_000,
  );

  it('an idle worker LISTENs: a new event is claimed long before its 30 s poll', async () => {
    const ws = pg.workspace({ poll_ms: 30_000 });
    const worker = pg.startWorker(ws.env, ['--id', 'listener']);
    // Once the first event is done the worker is idle, its next poll 30 s away.
    const first = await queueIssue(ws, {}, 31);
    await waitFor(() => eventById(ws.db, first).status === 'completed', 30_000, 'the first event');
    await new Promise((r) => setTimeout(r, 500));

    const second = await queueIssue(ws, {}, 32);
    // Well inside the 30 s poll, with room for a loaded machine; the claim itself within 5 s.
    await waitFor(() => eventById(ws.db, second).status === 'completed', 10_000, 'the second event, woken by NOTIFY');
    const row = eventById(ws.db, second);
    expect(row.started_at! - row.created_at).toBeLessThan(5_000);
    expect((await stopWorker(worker)).code).toBe(0);
  }, 60_000);

  it('a database restart mid-run: workers reconnect, every event completes once, hls queue exits 75 meanwhile', async () => {
    const ws = pg.workspace({ lease_seconds: 3 });
    const ids: number[] = [];
    for (let n = 51; n <= 56; n++) ids.push(await queueIssue(ws, { sleep_ms: 1000 }, n));
    const workers = ['r1', 'r2'].map((id) => pg.startWorker(ws.env, ['--id', id, '--concurrency', '2']));
    // Both workers running (a worker that cannot reach the database at start exits 75 instead) and busy.
    await waitFor(
      () => pg.rows(ws.db, 'SELECT id FROM workers').length === 2 && pg.countEvents(ws.db, `status = 'completed'`) >= 2,
      30_000,
      'both workers started and the first events completed',
    );

    // restart() stops the server before it first yields and starts it 10 s later: longer than the 8 s
    // deadline of `hls queue`, so the run below ends while the server is down.
    const restarting = pg.cluster.restart({ downMs: 10_000 });
    const body = writeBody(ws.dir, 'outage.json', issuePayload(59));
    const queue = (delivery: string) =>
      runHls(['queue', '--event', 'issues', '--delivery', delivery, '--body-file', body], { env: ws.env });
    const during = await queue('during-outage');
    await restarting;
    expect(during.code, during.stdout).toBe(75);
    expect(during.stdout).toMatch(/^error: [^\n]*\n$/);
    expect(pg.countEvents(ws.db, `delivery_id = 'during-outage'`)).toBe(0);

    const after = await queue('after-outage');
    expect(after.code, after.stdout).toBe(0);
    ids.push(Number(/^queued (\d+) /.exec(after.stdout)![1]));

    await waitFor(
      () => pg.countEvents(ws.db, `status = 'completed'`) === ids.length,
      40_000,
      `all ${ids.length} events completed after the restart`,
    );
    for (const worker of workers) {
      const exited = worker.child.exitCode !== null || worker.child.signalCode !== null;
      // A worker that exited shows why.
      expect(exited ? (await worker.done).stderr.slice(-3000) : 'running').toBe('running');
    }
    expect(pg.countEvents(ws.db, `status <> 'completed'`)).toBe(0);
    const completions = pg.rows(
      ws.db,
      `SELECT event_id, count(*) AS n FROM event_history WHERE to_status = 'completed' GROUP BY event_id ORDER BY event_id`,
    );
    expect(completions).toEqual(ids.map((id) => ({ event_id: id, n: 1 })));
    for (const worker of workers) expect((await stopWorker(worker)).code).toBe(0);
  }, 120_000);
});
