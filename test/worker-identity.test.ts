/**
 * A worker id names one process: a second `hls worker --id X` while X is live refuses to start (one
 * line, exit 75) and leaves X's registry row alone; a dead or silent X is taken over.
 */
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { finished, query, runHls, startHls, waitFor, type RunResult } from './helpers/hls.js';
import { workspace, type Workspace } from './helpers/setup.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface WorkerRow {
  id: string;
  pid: number;
  host: string;
  started_at: number;
  heartbeat_at: number;
  stopped_at: number | null;
}

const workerRow = (db: string, id: string) => query<WorkerRow>(db, 'SELECT * FROM workers WHERE id = ?', id)[0];

/** Keys set, so that the worker has nothing to warn about: its only output is what the test looks at. */
const withKeys = (ws: Workspace) => ({ ...ws.env, ANTHROPIC_API_KEY: 'sk-ant-test', GITHUB_TOKEN: 'ghp_test' });

/** A workspace whose database exists (a worker with another id ran once), so the test can poll it. */
async function readyWorkspace(): Promise<Workspace> {
  const ws = workspace();
  expect((await runHls(['worker', '--id', 'setup', '--once'], { env: withKeys(ws) })).code).toBe(0);
  return ws;
}

function startWorker(ws: Workspace, args: string[]): { child: ChildProcess; done: Promise<RunResult> } {
  const child = startHls(['worker', ...args], { env: withKeys(ws) });
  children.push(child);
  return { child, done: finished(child) };
}

async function registered(ws: Workspace, id: string, pid: number): Promise<WorkerRow> {
  return (await waitFor<WorkerRow | undefined>(
    () => {
      const row = workerRow(ws.db, id);
      return row?.pid === pid ? row : undefined;
    },
    15_000,
    `worker ${id} registered`,
  ))!;
}

describe('worker identity', () => {
  it('a second worker with the id of a live one exits 75 with one line and leaves its row alone', async () => {
    const ws = await readyWorkspace();
    const live = startWorker(ws, ['--id', 'w1', '--lease', '30s']);
    const before = await registered(ws, 'w1', live.child.pid!);

    const second = await runHls(['worker', '--id', 'w1', '--once'], { env: withKeys(ws) });

    expect(second.code).toBe(75);
    expect(second.stdout).toBe('');
    expect(second.stderr).toMatch(
      new RegExp(
        `^error: worker id "w1" is held by a live worker \\(pid ${live.child.pid} on ${hostname()}, last heartbeat \\S+\\): ` +
          'stop it, or start this one with another --id\\n$',
      ),
    );
    const after = workerRow(ws.db, 'w1')!;
    expect(after).toMatchObject({ pid: before.pid, started_at: before.started_at, stopped_at: null });
    const stats = JSON.parse((await runHls(['stats', '--json'], { env: ws.env })).stdout);
    expect(stats.workers).toMatchObject({ live: 1, stale: 0 });
    expect((await runHls(['stats', '--check'], { env: ws.env })).code).toBe(0);

    live.child.kill('SIGTERM');
    expect((await live.done).code).toBe(0);
  }, 30_000);

  it('takes over the id of a worker killed on this host at once, heartbeat still fresh', async () => {
    const ws = await readyWorkspace();
    const killed = startWorker(ws, ['--id', 'w2', '--lease', '60s']);
    await registered(ws, 'w2', killed.child.pid!);
    killed.child.kill('SIGKILL');
    await killed.done;

    const restarted = startWorker(ws, ['--id', 'w2', '--once']);
    const result = await restarted.done;

    expect(result.code).toBe(0);
    expect(workerRow(ws.db, 'w2')).toMatchObject({ pid: restarted.child.pid });
  }, 30_000);

  it('takes over the id of a worker silent for longer than its lease (hung), and of a stopped one', async () => {
    const ws = await readyWorkspace();
    const hung = startWorker(ws, ['--id', 'w3', '--lease', '1s']);
    const row = await registered(ws, 'w3', hung.child.pid!);
    hung.child.kill('SIGSTOP');
    await waitFor(
      () => Date.now() - workerRow(ws.db, 'w3')!.heartbeat_at > 1500,
      15_000,
      'the heartbeat to age past the lease',
    );

    const successor = await runHls(['worker', '--id', 'w3', '--once'], { env: withKeys(ws) });
    expect(successor.code).toBe(0);
    const taken = workerRow(ws.db, 'w3')!;
    expect(taken.pid).not.toBe(row.pid);
    expect(taken.stopped_at).not.toBeNull(); // it ran once and stopped cleanly

    const next = await runHls(['worker', '--id', 'w3', '--once'], { env: withKeys(ws) });
    expect(next.code).toBe(0);
    expect(workerRow(ws.db, 'w3')!.started_at).toBeGreaterThan(taken.started_at);
    hung.child.kill('SIGKILL');
  }, 30_000);
});
