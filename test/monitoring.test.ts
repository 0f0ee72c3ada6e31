import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { finished, runHls, startHls, waitFor } from './helpers/hls.js';
import { SPEND_LIMIT_REPLY } from '../src/simulators/anthropic.js';
import { queueIssueEvent, stage, type Stage } from './helpers/pipeline.js';
import { queueIssue, workspace } from './helpers/setup.js';

interface WorkerState {
  id: string;
  state: string;
  pid: number;
  in_flight: number;
  processed: number;
}

async function workers(env: NodeJS.ProcessEnv): Promise<{
  live: number;
  stale: number;
  stopped: number;
  by_host: Array<{ host: string; live: number; stale: number; stopped: number }>;
  list: WorkerState[];
}> {
  const result = await runHls(['stats', '--json'], { env });
  return JSON.parse(result.stdout).workers;
}

describe('workers registry in hls stats', () => {
  it('shows a running worker as live, a killed one as stale once its lease passes, a stopped one as stopped', async () => {
    const ws = workspace({ lease_seconds: 1 });
    await queueIssue(ws);
    const alive = startHls(['worker', '--id', 'alive'], { env: ws.env });
    const doomed = startHls(['worker', '--id', 'doomed'], { env: ws.env });
    const aliveDone = finished(alive);
    const doomedDone = finished(doomed);
    await waitFor(async () => (await workers(ws.env)).live === 2, 15_000, 'two live workers');
    const both = await workers(ws.env);
    expect(both.list.map((w) => w.id).sort()).toEqual(['alive', 'doomed']);
    expect(both.list.find((w) => w.id === 'doomed')!.pid).toBe(doomed.pid);
    await waitFor(
      async () => (await workers(ws.env)).list.reduce((sum, w) => sum + w.processed, 0) === 1,
      15_000,
      'the event',
    );

    doomed.kill('SIGKILL');
    await doomedDone;
    await waitFor(async () => (await workers(ws.env)).stale === 1, 15_000, 'the killed worker to turn stale');
    alive.kill('SIGTERM');
    expect((await aliveDone).code).toBe(0);
    const after = await workers(ws.env);
    expect(after).toMatchObject({ live: 0, stale: 1, stopped: 1 });
    expect(after.list.find((w) => w.id === 'alive')).toMatchObject({ state: 'stopped', in_flight: 0 });
    expect(after.by_host).toEqual([{ host: hostname(), live: 0, stale: 1, stopped: 1 }]);
    const text = await runHls(['stats'], { env: ws.env });
    expect(text.stdout).toMatch(/^workers +0 live, 1 stale, 1 stopped today, on 1 host\(s\)$/m);
    expect(text.stdout).toContain(`\n  ${hostname()}  0 live, 1 stale\n    doomed  stale  pid `);
    expect(text.stdout).toMatch(/^ {4}doomed +stale +pid \d+ on \S+ +in flight \d\/2/m);
  });
});

describe('hls stats --check (Nagios plugin convention)', () => {
  it('OK with a live worker and nothing failed; WARNING with a failed event; CRITICAL without a live worker', async () => {
    const ws = workspace();
    await queueIssue(ws);
    const worker = startHls(['worker', '--id', 'w1'], { env: ws.env });
    const done = finished(worker);
    await waitFor(async () => (await workers(ws.env)).live === 1, 15_000, 'a live worker');
    await waitFor(async () => (await runHls(['stats', '--check'], { env: ws.env })).code === 0, 15_000, 'OK');
    const ok = await runHls(['stats', '--check'], { env: ws.env });
    expect(ok.stdout).toBe(
      'HLS OK - 0 waiting, 0 failed, 1 live worker(s) | failed=0;1;20 failure_rate=0;0.1;0.5 oldest_due_seconds=0s;600;1800 live_workers=1;1:;1:\n',
    );

    await queueIssue(ws, { fail: 404 });
    const lenient = ['--threshold', 'failure_rate=0.6,0.9'];
    await waitFor(
      async () => (await runHls(['stats', '--check', ...lenient], { env: ws.env })).code === 1,
      15_000,
      'WARNING',
    );
    const warning = await runHls(['stats', '--check', ...lenient], { env: ws.env });
    expect(warning.stdout).toMatch(
      /^HLS WARNING - 1 failed event\(s\) \| failed=1;1;20 failure_rate=0\.500;0\.6;0\.9 /,
    );
    const byDefault = await runHls(['stats', '--check'], { env: ws.env });
    expect(byDefault.code).toBe(2);
    expect(byDefault.stdout).toMatch(/^HLS CRITICAL - 1 failed event\(s\); failure rate 1\/2 \| /);
    const critical = await runHls(['stats', '--check', '--threshold', 'failure_rate=0.2,0.4'], { env: ws.env });
    expect(critical.code).toBe(2);
    expect(critical.stdout).toContain('failure_rate=0.500;0.2;0.4');

    worker.kill('SIGTERM');
    await done;
    const noWorker = await runHls(['stats', '--check', '--threshold', 'failed=5,10', 'failure_rate=0.9,0.95'], {
      env: ws.env,
    });
    expect(noWorker.code).toBe(2);
    expect(noWorker.stdout).toMatch(/^HLS CRITICAL - 0 live worker\(s\) \| .* live_workers=0;1:;1:\n$/);
  });

  it('UNKNOWN (3) when it cannot tell: no database, a bad threshold', async () => {
    const ws = workspace();
    const missing = await runHls(['stats', '--check', '--db', join(ws.dir, 'none.db')]);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toMatch(/^HLS UNKNOWN - database .*none\.db does not exist/);
    await queueIssue(ws);
    const bad = await runHls(['stats', '--check', '--threshold', 'speed=1,2'], { env: ws.env });
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/^HLS UNKNOWN - invalid --threshold "speed=1,2"/);
  });
});

describe('hls stats --check on API limits (real worker against the loopback fakes)', () => {
  let s: Stage | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });
  // No worker runs while these checks do: only the measure under test may alert.
  const noWorkers = ['--threshold', 'live_workers=0,0'];

  it('alerts when the scarcest rate limit has less than rate_limit_remaining_percent left', async () => {
    // One event at a time, so that the latest reading is that of the last request.
    s = await stage({ anthropic: { rateLimits: { requests: 10 } }, config: { queue: { concurrency: 1 } } });
    await queueIssueEvent(s, 1);
    await queueIssueEvent(s, 2);
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);

    const ok = await runHls(['stats', '--check', ...noWorkers], { env: s.env });
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toBe(
      'HLS OK - 0 waiting, 0 failed, 0 live worker(s) | failed=0;1;20 failure_rate=0;0.1;0.5 oldest_due_seconds=0s;600;1800 live_workers=0;0:;0: rate_limit_remaining_percent=80%;20:;5:\n',
    );
    const warning = await runHls(
      ['stats', '--check', ...noWorkers, '--threshold', 'rate_limit_remaining_percent=90,'],
      {
        env: s.env,
      },
    );
    expect(warning.code).toBe(1);
    expect(warning.stdout).toMatch(
      /^HLS WARNING - anthropic requests rate limit 80% left \(8\/10 until \d{4}-\S+Z\) \| .* rate_limit_remaining_percent=80%;90:;5:\n$/,
    );
    const critical = await runHls(
      ['stats', '--check', ...noWorkers, '--threshold', 'rate_limit_remaining_percent=95,85'],
      { env: s.env },
    );
    expect(critical.code).toBe(2);
    expect(critical.stdout).toMatch(/^HLS CRITICAL - anthropic requests rate limit 80% left /);
  });

  it('is CRITICAL while the Anthropic spend limit stops model calls', async () => {
    s = await stage({
      anthropic: { respond: () => SPEND_LIMIT_REPLY },
    });
    await queueIssueEvent(s, 1);
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);
    const lenient = [...noWorkers, '--threshold', 'failed=5,10', '--threshold', 'failure_rate=2,2'];
    const result = await runHls(['stats', '--check', ...lenient], { env: s.env });
    expect(result.code, result.stdout).toBe(2);
    const match = /^HLS CRITICAL - Anthropic spend limit reached; model calls stopped until (\S+Z) \| failed=/.exec(
      result.stdout,
    );
    expect(match, result.stdout).not.toBeNull();
    const until = JSON.parse((await runHls(['stats', '--json'], { env: s.env })).stdout).pauses[0].until;
    expect(match![1]).toBe(until);
  });

  it('a threshold may leave one side empty to keep the config value, not both', async () => {
    const ws = workspace();
    await queueIssue(ws);
    const partial = await runHls(['stats', '--check', '--threshold', 'failed=,30', '--threshold', 'live_workers=0,'], {
      env: ws.env,
    });
    expect(partial.stdout).toMatch(/ failed=0;1;30 .* live_workers=0;0:;1:\n$/);
    const empty = await runHls(['stats', '--check', '--threshold', 'failed=,'], { env: ws.env });
    expect(empty.code).toBe(3);
    expect(empty.stdout).toMatch(/^HLS UNKNOWN - invalid --threshold "failed=,"/);
  });
});
