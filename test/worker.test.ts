import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { finished, query, runHls, startHls, waitFor } from './helpers/hls.js';
import { writeBody } from './helpers/payloads.js';
import { databaseSection, queueFile, queueIssue, workspace, type Workspace } from './helpers/setup.js';

interface Row {
  id: number;
  status: string;
  attempts: number;
  error_class: string | null;
  error_message: string | null;
  skip_reason: string | null;
  scheduled_at: number;
  locked_by: string | null;
}

interface History {
  at: number;
  from_status: string | null;
  to_status: string;
  attempt: number;
  worker: string | null;
  error_class: string | null;
}

const event = (ws: Workspace, id: number) => query<Row>(ws.db, 'SELECT * FROM webhook_events WHERE id = ?', id)[0]!;
const history = (ws: Workspace, id: number) =>
  query<History>(ws.db, 'SELECT * FROM event_history WHERE event_id = ? ORDER BY id', id);
const effects = (ws: Workspace) =>
  existsSync(ws.effects) ? readFileSync(ws.effects, 'utf8').trim().split('\n').filter(Boolean) : [];

describe('hls worker', () => {
  it('--once completes handled events, skips unhandled ones, then exits 0', async () => {
    const ws = workspace();
    const first = await queueIssue(ws);
    const second = await queueIssue(ws, { skip: 'not interesting' });
    const push = await queueFile(
      ws,
      'push',
      'push-1',
      writeBody(ws.dir, 'push.json', { ref: 'refs/heads/main', repository: { full_name: 'octo-org/widgets' } }),
    );

    const result = await runHls(['worker', '--once', '--id', 'w1'], { env: ws.env });

    expect(result.code).toBe(0);
    expect(event(ws, first)).toMatchObject({ status: 'completed', attempts: 1, locked_by: null });
    expect(event(ws, second)).toMatchObject({ status: 'skipped', skip_reason: 'not interesting' });
    expect(event(ws, push)).toMatchObject({ status: 'skipped', skip_reason: 'no handler' });
    expect(effects(ws)).toHaveLength(1);
    const logs = result.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: 'completed', event_id: first, delivery_id: expect.any(String) }),
    );
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: 'skipped', event_id: push, delivery_id: 'push-1', reason: 'no handler' }),
    );
  });

  it('retries transient errors with growing, jittered delays and fails after max_attempts', async () => {
    const ws = workspace({ max_attempts: 3, backoff_base_seconds: 0.3 });
    const id = await queueIssue(ws, { fail: 'transient' });
    const worker = startHls(['worker', '--id', 'retrier'], { env: ws.env });
    const done = finished(worker);

    await waitFor(() => event(ws, id).status === 'failed', 20_000, 'the event to fail');
    worker.kill('SIGTERM');
    const exit = await done;
    expect(exit.code).toBe(0);

    const row = event(ws, id);
    expect(row).toMatchObject({ status: 'failed', attempts: 3, error_class: 'transient:handler' });
    expect(row.error_message).toContain('scripted transient failure on attempt 3');
    const steps = history(ws, id);
    expect(steps.map((h) => h.to_status)).toEqual([
      'pending',
      'processing',
      'retry',
      'processing',
      'retry',
      'processing',
      'failed',
    ]);
    // Attempt n+1 is due base·2^(n-1)/2 to base·2^(n-1) after attempt n failed (equal jitter), and is not
    // claimed before it is due. Measured from the claims and the due times the worker logged, not from
    // the retry rows: on a loaded machine the row can be written well after the due time was set.
    const claims = steps.filter((h) => h.to_status === 'processing');
    const dueAt = exit.stderr
      .split('\n')
      .filter((line) => line.includes('"will retry"'))
      .map((line) => Date.parse((JSON.parse(line) as { retry_at: string }).retry_at));
    expect(dueAt).toHaveLength(2);
    expect(dueAt[0]! - claims[0]!.at).toBeGreaterThanOrEqual(150);
    expect(dueAt[1]! - claims[1]!.at).toBeGreaterThanOrEqual(300);
    expect(claims[1]!.at).toBeGreaterThanOrEqual(dueAt[0]!);
    expect(claims[2]!.at).toBeGreaterThanOrEqual(dueAt[1]!);
    expect(effects(ws)).toHaveLength(0);
  });

  it('a handler can defer an event: it waits with a visible reason, uncounted, then runs', async () => {
    const ws = workspace();
    const id = await queueIssue(ws, { defer_ms: 1200 });
    const first = await runHls(['worker', '--once'], { env: ws.env });
    expect(first.code).toBe(0);
    const waiting = event(ws, id) as Row & { wait_reason: string | null };
    expect(waiting).toMatchObject({ status: 'pending', attempts: 0, wait_reason: 'scripted wait' });
    expect(waiting.scheduled_at).toBeGreaterThan(Date.now());
    const shown = await runHls(['show', String(id)], { env: ws.env });
    expect(shown.stdout).toMatch(/^scheduled +\S+ +\(scripted wait\)$/m);

    await new Promise((resolve) => setTimeout(resolve, 1300));
    await runHls(['worker', '--once'], { env: ws.env });
    expect(event(ws, id)).toMatchObject({ status: 'completed', attempts: 1, wait_reason: null });
    expect(effects(ws)).toHaveLength(1);
  });

  it('fails permanent errors at once and keeps the error class and message', async () => {
    const ws = workspace();
    const handlerSaysNo = await queueIssue(ws, { fail: 'permanent' });
    const notFound = await queueIssue(ws, { fail: 404 });
    const unprocessable = await queueIssue(ws, { fail: 422 });

    const result = await runHls(['worker', '--once'], { env: ws.env });

    expect(result.code).toBe(0);
    expect(event(ws, handlerSaysNo)).toMatchObject({ status: 'failed', attempts: 1, error_class: 'permanent:handler' });
    expect(event(ws, notFound)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error_class: 'permanent:http_404',
      error_message: 'HTTP 404 from the fake API',
    });
    expect(event(ws, unprocessable)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error_class: 'permanent:http_422',
    });
  });

  it('retries 5xx/429 and honours Retry-After as the minimum delay', async () => {
    const ws = workspace({ backoff_base_seconds: 0.05 });
    const flaky = await queueIssue(ws, { fail: 503, fail_times: 1 });
    const limited = await queueIssue(ws, { fail: 429, fail_times: 1, retry_after: 1 });
    const worker = startHls(['worker'], { env: ws.env });
    const done = finished(worker);

    await waitFor(
      () => event(ws, flaky).status === 'completed' && event(ws, limited).status === 'completed',
      20_000,
      'both to complete',
    );
    worker.kill('SIGTERM');
    expect((await done).code).toBe(0);

    expect(history(ws, flaky).find((h) => h.to_status === 'retry')?.error_class).toBe('transient:http_503');
    const steps = history(ws, limited);
    const retry = steps.find((h) => h.to_status === 'retry')!;
    const reclaim = steps.filter((h) => h.to_status === 'processing')[1]!;
    expect(retry.error_class).toBe('transient:http_429');
    // Both times are written after the worker chose the run time (the retry row a few ms after the choice),
    // so allow those ms; without Retry-After the 50 ms backoff would bring the event back ~20 times sooner.
    expect(reclaim.at - retry.at).toBeGreaterThanOrEqual(950);
    expect(effects(ws)).toHaveLength(2);
  });

  it('a worker killed with -9 mid-event loses nothing: another worker takes over after the lease expires', async () => {
    const ws = workspace({ lease_seconds: 1 });
    const id = await queueIssue(ws, { sleep_ms: 2500 });
    const doomed = startHls(['worker', '--id', 'doomed'], { env: ws.env });
    const doomedDone = finished(doomed);
    await waitFor(() => event(ws, id).locked_by === 'doomed', 30_000, 'the first worker to claim');
    doomed.kill('SIGKILL');
    expect((await doomedDone).signal).toBe('SIGKILL');
    expect(event(ws, id).status).toBe('processing');

    const rescuer = startHls(['worker', '--id', 'rescuer'], { env: ws.env });
    const rescuerDone = finished(rescuer);
    await waitFor(() => event(ws, id).status === 'completed', 15_000, 'the second worker to complete it');
    rescuer.kill('SIGTERM');
    expect((await rescuerDone).code).toBe(0);

    const steps = history(ws, id);
    expect(steps.map((h) => [h.to_status, h.worker, h.error_class])).toEqual([
      ['pending', null, null],
      ['processing', 'doomed', null],
      ['retry', 'doomed', 'lease_expired'],
      ['processing', 'rescuer', null],
      ['completed', 'rescuer', null],
    ]);
    expect(effects(ws)).toEqual([expect.stringMatching(new RegExp(`^test-\\d+-\\d+ ${rescuer.pid} 2$`))]);
  });

  it('an event that kills its worker every time ends failed after max_attempts instead of looping', async () => {
    const ws = workspace({ lease_seconds: 0.3, max_attempts: 2 });
    const poison = await queueIssue(ws, { crash: true });
    const healthy = await queueIssue(ws);
    const exits: (string | null)[] = [];
    for (let run = 0; run < 6 && event(ws, poison).status !== 'failed'; run++) {
      const result = await runHls(['worker', '--once', '--id', `run-${run}`, '--concurrency', '1'], { env: ws.env });
      exits.push(result.signal);
      if (event(ws, poison).status === 'processing') await new Promise((r) => setTimeout(r, 400));
    }
    expect(exits.filter((signal) => signal === 'SIGKILL')).toHaveLength(2);
    expect(event(ws, poison)).toMatchObject({ status: 'failed', attempts: 2, error_class: 'lease_expired' });
    expect(history(ws, poison).map((h) => h.to_status)).toEqual([
      'pending',
      'processing',
      'retry',
      'processing',
      'failed',
    ]);
    await runHls(['worker', '--once'], { env: ws.env });
    expect(event(ws, healthy).status).toBe('completed');
  });

  it('keeps a long event leased through heartbeats, so no other worker steals it', async () => {
    const ws = workspace({ lease_seconds: 0.6 });
    const id = await queueIssue(ws, { sleep_ms: 2500 });
    const first = startHls(['worker', '--id', 'first'], { env: ws.env });
    const firstDone = finished(first);
    await waitFor(() => event(ws, id).locked_by === 'first', 30_000, 'the first claim');
    const second = startHls(['worker', '--id', 'second'], { env: ws.env });
    const secondDone = finished(second);

    await waitFor(() => event(ws, id).status === 'completed', 15_000, 'completion');
    first.kill('SIGTERM');
    second.kill('SIGTERM');
    await Promise.all([firstDone, secondDone]);

    expect(history(ws, id).map((h) => [h.to_status, h.worker])).toEqual([
      ['pending', null],
      ['processing', 'first'],
      ['completed', 'first'],
    ]);
    expect(effects(ws)).toHaveLength(1);
  });

  it('on SIGTERM finishes in-flight events within the grace period and returns the rest uncounted', async () => {
    // `quick` takes 1 s, time enough to see both claims before it finishes (and its slot takes `waiting`).
    const ws = workspace({ grace_seconds: 2.5 });
    const quick = await queueIssue(ws, { sleep_ms: 1000 });
    const slow = await queueIssue(ws, { sleep_ms: 30_000 });
    const waiting = await queueIssue(ws);
    const worker = startHls(['worker', '--id', 'drainer', '--concurrency', '2'], { env: ws.env });
    const done = finished(worker);
    await waitFor(
      () => event(ws, quick).status === 'processing' && event(ws, slow).status === 'processing',
      10_000,
      'two claims',
    );

    worker.kill('SIGTERM');
    const result = await done;

    expect(result.code).toBe(0);
    expect(event(ws, quick).status).toBe('completed');
    expect(event(ws, slow)).toMatchObject({ status: 'pending', attempts: 0, locked_by: null });
    expect(event(ws, waiting)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(history(ws, slow).map((h) => h.to_status)).toEqual(['pending', 'processing', 'pending']);
  });

  it('two workers draining one queue process every event exactly once', async () => {
    const ws = workspace();
    const ids: number[] = [];
    for (let i = 0; i < 40; i++) ids.push(await queueIssue(ws, { sleep_ms: 5 }));

    const results = await Promise.all([
      runHls(['worker', '--once', '--id', 'a', '--concurrency', '3'], { env: ws.env }),
      runHls(['worker', '--once', '--id', 'b', '--concurrency', '3'], { env: ws.env }),
    ]);

    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const rows = query<{ status: string; attempts: number }>(ws.db, 'SELECT status, attempts FROM webhook_events');
    expect(rows).toHaveLength(40);
    expect(rows.every((r) => r.status === 'completed' && r.attempts === 1)).toBe(true);
    const deliveries = effects(ws).map((line) => line.split(' ')[0]);
    expect(deliveries).toHaveLength(40);
    expect(new Set(deliveries).size).toBe(40);
  });

  it('rejects a handler module that does not load, with the config key in the error', async () => {
    const ws = workspace();
    const broken = join(ws.dir, 'broken.yaml');
    writeBody(
      ws.dir,
      'broken.yaml',
      JSON.stringify({ database: databaseSection(ws.db), handlers: { issues: './missing.mjs' } }),
    );
    const result = await runHls(['worker', '--once', '--config', broken]);
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/^error: handlers\.issues: cannot load .*missing\.mjs/);
  });
});
