// Item 1 of issue 8: on a real full file system an acknowledged event is on disk, a refused one says so
// (exit 75), and workers wait the disk out instead of spinning, then carry on once space is freed.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { finished, query, runHls, startHls, waitFor, type RunResult } from './helpers/hls.js';
import { issuePayload, writeBody } from './helpers/payloads.js';
import { queueIssue, workspace, type Workspace } from './helpers/setup.js';
import { describeAsRoot, fillUp, freeBytes, mountTmpfs, unmountTmpfs } from './helpers/tmpfs.js';

interface Row {
  id: number;
  delivery_id: string;
  status: string;
}

interface LogLine {
  msg: string;
  code?: string;
  failures?: number;
  retry_in_ms?: number;
}

/** A started worker, with its JSON log lines as they arrive. */
interface RunningWorker {
  child: ChildProcess;
  logs: LogLine[];
  result: Promise<RunResult>;
}

/** Upper bound for each step: workers start slowly on a loaded machine (nothing here measures time). */
const SLOW = 180_000;

describeAsRoot('test/full-disk.test.ts', 'a full file system', () => {
  let disk: string;
  let ws: Workspace;
  let filler: string;
  const workers: ChildProcess[] = [];

  const rows = () => query<Row>(ws.db, 'SELECT id, delivery_id, status FROM webhook_events ORDER BY id');
  const effects = () => (existsSync(ws.effects) ? readFileSync(ws.effects, 'utf8').trim().split('\n') : []);
  const bigIssue = (delivery: string) =>
    writeBody(ws.dir, `${delivery}.json`, issuePayload(7, 'octo-org/widgets', { padding: 'x'.repeat(600_000) }));
  const queueBig = (delivery: string) =>
    runHls(['queue', '--event', 'issues', '--delivery', delivery, '--body-file', bigIssue(delivery)], {
      env: ws.env,
    });

  function startWorker(id: string): RunningWorker {
    const child = startHls(['worker', '--id', id, '--concurrency', '1'], { env: ws.env });
    workers.push(child);
    const logs: LogLine[] = [];
    let pending = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = pending + chunk.toString('utf8');
      const lines = text.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line) as LogLine);
    });
    return { child, logs, result: finished(child) };
  }

  const dbErrors = (w: RunningWorker) => w.logs.filter((l) => l.msg === 'database error; backing off');

  let holder: RunningWorker;
  let first: number;
  let second: number;

  beforeAll(async () => {
    disk = mountTmpfs(4 * 1024 * 1024);
    filler = join(disk, 'filler');
    // The configuration and the handler's effects file stay on the normal disk; only the database is on the tmpfs.
    ws = workspace({ lease_seconds: 120, grace_seconds: 1 });
    ws.db = join(disk, 'hls.db');
    ws.env = { ...ws.env, HLS_DB: ws.db };

    // A worker busy with a long event keeps the database open (its -wal and -shm exist), as running
    // workers do in production when the disk fills up; the second event waits for a free worker.
    first = await queueIssue(ws, { sleep_ms: 600_000 });
    holder = startWorker('holder');
    await waitFor(() => rows()[0]?.status === 'processing', 60_000, 'the holder to claim the first event');
    second = await queueIssue(ws);
    const filled = fillUp(filler);
    console.log(`filled the tmpfs with ${filled} bytes; ${freeBytes(disk)} bytes left`);
  }, SLOW);

  afterAll(async () => {
    for (const child of workers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(workers.map((child) => (child.exitCode === null ? finished(child).catch(() => {}) : null)));
    if (disk) unmountTmpfs(disk);
  });

  it(
    'hls queue exits 75 with one error line and stores nothing when the commit fails; earlier rows are intact',
    async () => {
      expect(freeBytes(disk)).toBe(0);
      const result = await queueBig('full-disk-refused');
      console.log(`hls queue on the full disk: exit ${result.code}, stdout ${JSON.stringify(result.stdout)}`);
      console.log(`rows: ${JSON.stringify(rows())}`);
      expect(result.code).toBe(75);
      expect(result.stdout).toBe('error: database unavailable (SQLITE_FULL); redeliver later\n');
      expect(rows()).toEqual([
        { id: first, delivery_id: expect.any(String), status: 'processing' },
        { id: second, delivery_id: expect.any(String), status: 'pending' },
      ]);
    },
    SLOW,
  );

  it(
    'a worker started on the full disk logs the error, backs off with a growing delay, and stops on SIGTERM; --once exits 75',
    async () => {
      const worker = startWorker('patient');
      await waitFor(() => dbErrors(worker).length >= 4, 60_000, 'four database errors in the log');
      const errors = dbErrors(worker).slice(0, 4);
      console.log(`worker on the full disk logged: ${JSON.stringify(errors)}`);
      expect(errors.map((e) => e.code)).toEqual(Array(4).fill('SQLITE_FULL'));
      expect(errors.map((e) => e.failures)).toEqual([1, 2, 3, 4]);
      const delays = errors.map((e) => e.retry_in_ms!);
      for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]!);
      expect(rows().find((r) => r.id === second)!.status).toBe('pending');

      worker.child.kill('SIGTERM');
      const result = await worker.result;
      console.log(`worker after SIGTERM on the full disk: exit ${result.code}, signal ${result.signal}`);
      expect(result.code).toBe(0);
      expect(worker.logs.at(-1)!.msg).toBe('worker stopped');

      const once = await runHls(['worker', '--once', '--id', 'once'], { env: ws.env });
      const lastLine = once.stderr.trimEnd().split('\n').at(-1);
      console.log(`worker --once on the full disk: exit ${once.code}, last line ${JSON.stringify(lastLine)}`);
      expect(once.code).toBe(75);
      expect(lastLine).toBe('error: database unavailable (SQLITE_FULL: database or disk is full)');
    },
    SLOW,
  );

  it(
    'once space is freed, a worker that waited on the full disk and hls queue carry on',
    async () => {
      const worker = startWorker('survivor');
      await waitFor(() => dbErrors(worker).length >= 1, 60_000, 'a database error in the log');
      rmSync(filler);

      await waitFor(() => rows().find((r) => r.id === second)?.status === 'completed', 60_000, 'the second event');
      const retried = await queueBig('full-disk-redelivered');
      console.log(`hls queue after freeing space: exit ${retried.code}, stdout ${JSON.stringify(retried.stdout)}`);
      expect(retried.code).toBe(0);
      expect(retried.stdout).toMatch(/^queued \d+ issues\.opened octo-org\/widgets\n$/);
      await waitFor(
        () => rows().find((r) => r.delivery_id === 'full-disk-redelivered')?.status === 'completed',
        60_000,
        'the redelivered event',
      );
      console.log(`rows after freeing space: ${JSON.stringify(rows())}`);
      expect(effects().map((line) => line.split(' ')[0])).toEqual([
        rows().find((r) => r.id === second)!.delivery_id,
        'full-disk-redelivered',
      ]);

      for (const w of [worker, holder]) w.child.kill('SIGTERM');
      const [survivor, held] = await Promise.all([worker.result, holder.result]);
      console.log(`survivor exit ${survivor.code}, holder exit ${held.code}; rows ${JSON.stringify(rows())}`);
      expect([survivor.code, held.code]).toEqual([0, 0]);
      expect(rows().find((r) => r.id === first)!.status).toBe('pending');
    },
    SLOW,
  );
});
