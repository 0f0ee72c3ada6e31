import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { query, runHls } from './helpers/hls.js';
import { writeBody } from './helpers/payloads.js';
import { queueFile, queueIssue, workspace, type Workspace } from './helpers/setup.js';

let ws: Workspace;
const ids: Record<string, number> = {};

/** Two completed, one failed, one skipped (no handler), processed by one real worker run. */
beforeAll(async () => {
  ws = workspace();
  ids.done1 = await queueIssue(ws, {}, 101);
  ids.done2 = await queueIssue(ws, { sleep_ms: 30 }, 102);
  ids.broken = await queueIssue(ws, { fail: 404 }, 103);
  ids.push = await queueFile(
    ws,
    'push',
    'push-delivery-1',
    writeBody(ws.dir, 'push.json', { ref: 'refs/heads/main', repository: { full_name: 'octo-org/gadgets' } }),
  );
  const worker = await runHls(['worker', '--once', '--id', 'stats-worker'], { env: ws.env });
  expect(worker.code).toBe(0);
});

const status = (id: number) =>
  query<{ status: string; attempts: number; replay_count: number; error_message: string | null }>(
    ws.db,
    'SELECT * FROM webhook_events WHERE id = ?',
    id,
  )[0]!;

describe('hls stats', () => {
  it('--json reports queue state, window totals, groups and today', async () => {
    const result = await runHls(['stats', '--json'], { env: ws.env });
    expect(result.code).toBe(0);
    const stats = JSON.parse(result.stdout);
    expect(stats.queue).toEqual({ pending: 0, processing: 0, retry: 0, completed: 2, failed: 1, skipped: 1, total: 4 });
    expect(stats.oldest_due_age_seconds).toBeNull();
    expect(stats.window.seconds).toBe(86_400);
    expect(stats.window_totals).toMatchObject({
      received: 4,
      completed: 2,
      failed: 1,
      skipped: 1,
      retries: 0,
      success_rate: 2 / 3,
    });
    expect(stats.window_totals.processing_ms.count).toBe(2);
    expect(stats.window_totals.processing_ms.p95).toBeGreaterThanOrEqual(stats.window_totals.processing_ms.p50);
    expect(stats.by_event).toEqual([
      expect.objectContaining({ event: 'issues', total: 3, completed: 2, failed: 1 }),
      expect.objectContaining({ event: 'push', total: 1, skipped: 1 }),
    ]);
    expect(stats.by_repository).toEqual([
      expect.objectContaining({ repository: 'octo-org/widgets', total: 3 }),
      expect.objectContaining({ repository: 'octo-org/gadgets', total: 1 }),
    ]);
    const today = new Date().toISOString().slice(0, 10);
    expect(stats.today).toEqual({ date: today, analyses: 0, tokens: 0, cost_usd: 0 });
    expect(stats.daily).toEqual([
      { date: today, events: 4, completed: 2, failed: 1, skipped: 1, analyses: 0, actions: 0, tokens: 0, cost_usd: 0 },
    ]);
  });

  it('prints a readable summary and shows the oldest due event', async () => {
    const waiting = await queueIssue(ws, {}, 104);
    const result = await runHls(['stats', '--since', '1h'], { env: ws.env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^queue +pending 1 +processing 0 +retry 0 +completed 2 +failed 1 +skipped 1 +total 5$/m,
    );
    expect(result.stdout).toMatch(/^oldest due +\d+(ms|\.\ds)$/m);
    expect(result.stdout).toMatch(/^window +received 5 +completed 2 +failed 1 +skipped 1 +retries 0 +success 66\.7%$/m);
    expect(result.stdout).toMatch(/^issues +4 +2 +0 +1 +1$/m);
    await runHls(['worker', '--once'], { env: ws.env });
    expect(status(waiting).status).toBe('completed');
  });

  it('refuses a bad --since and a missing database with documented exit codes', async () => {
    expect((await runHls(['stats', '--since', 'yesterday'], { env: ws.env })).code).toBe(64);
    const missing = await runHls(['stats', '--db', join(ws.dir, 'nope.db')]);
    expect(missing.code).toBe(66);
    expect(missing.stderr).toMatch(/^error: database .*nope\.db does not exist/);
  });
});

describe('hls show', () => {
  it('prints one event with its history and last error', async () => {
    const result = await runHls(['show', String(ids.broken)], { env: ws.env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`^event ${ids.broken} +test-\\d+-\\d+ +issues\\.opened +octo-org/widgets$`, 'm'),
    );
    expect(result.stdout).toMatch(/^status +failed +attempts 1 +replays 0$/m);
    expect(result.stdout).toMatch(/^last error +permanent:http_404: HTTP 404 from the fake API$/m);
    expect(result.stdout).toContain('"Widget crashes on start (#103)"');
    expect(result.stdout).toMatch(/processing +failed +1 +stats-worker +permanent:http_404/);
  });

  it('--json finds events by delivery id; --payload prints the stored bytes', async () => {
    const json = await runHls(['show', 'push-delivery-1', '--json'], { env: ws.env });
    expect(json.code).toBe(0);
    const shown = JSON.parse(json.stdout);
    expect(shown).toMatchObject({
      id: ids.push,
      event: 'push',
      status: 'skipped',
      skip_reason: 'no handler',
      repository: 'octo-org/gadgets',
    });
    expect(shown.history.map((h: { to_status: string }) => h.to_status)).toEqual(['pending', 'processing', 'skipped']);
    const raw = await runHls(['show', 'push-delivery-1', '--payload'], { env: ws.env });
    expect(raw.stdout).toBe(readFileSync(join(ws.dir, 'push.json'), 'utf8'));
  });

  it('exits 66 for an unknown event', async () => {
    const result = await runHls(['show', 'no-such-delivery'], { env: ws.env });
    expect(result.code).toBe(66);
    expect(result.stderr).toBe('error: no event with id or delivery "no-such-delivery"\n');
  });
});

describe('hls replay', () => {
  it('--dry-run lists the failed events and changes nothing', async () => {
    const result = await runHls(['replay', '--dry-run'], { env: ws.env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^would replay ${ids.broken} test-\\d+-\\d+ issues\\.opened octo-org/widgets \\(failed: permanent:http_404: HTTP 404 from the fake API\\)$`,
        'm',
      ),
    );
    expect(result.stdout).toContain('1 event(s) would be re-queued (dry run)');
    expect(status(ids.broken).status).toBe('failed');
  });

  it('re-queues failed events with fresh attempts, keeping the previous error visible', async () => {
    const result = await runHls(['replay'], { env: ws.env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^1 event\(s\) re-queued$/m);
    expect(status(ids.broken)).toMatchObject({
      status: 'pending',
      attempts: 0,
      replay_count: 1,
      error_message: 'HTTP 404 from the fake API',
    });
    const shown = JSON.parse((await runHls(['show', String(ids.broken), '--json'], { env: ws.env })).stdout);
    expect(shown.history.map((h: { to_status: string }) => h.to_status)).toEqual([
      'pending',
      'processing',
      'failed',
      'pending',
    ]);
    expect(shown.history[2].error_class).toBe('permanent:http_404');
    const again = await runHls(['worker', '--once'], { env: ws.env });
    expect(again.code).toBe(0);
    expect(status(ids.broken)).toMatchObject({ status: 'failed', attempts: 1, replay_count: 1 });
  });

  it('takes explicit ids or deliveries in any finished status, and filters by event and status', async () => {
    const byDelivery = await runHls(['replay', 'push-delivery-1', String(ids.done1), '--json'], { env: ws.env });
    expect(byDelivery.code).toBe(0);
    expect(JSON.parse(byDelivery.stdout)).toMatchObject({ dry_run: false, replayed: 2 });
    expect(status(ids.push).status).toBe('pending');
    expect(status(ids.done1)).toMatchObject({ status: 'pending', replay_count: 1 });
    await runHls(['worker', '--once'], { env: ws.env });

    const filtered = await runHls(
      ['replay', '--status', 'skipped', '--event', 'push', '--repo', 'octo-org/gadgets', '--since', '1h'],
      { env: ws.env },
    );
    expect(filtered.stdout).toMatch(/^1 event\(s\) re-queued$/m);
    expect(status(ids.push)).toMatchObject({ status: 'pending', replay_count: 2 });
  });

  it('an unknown reference replays nothing and exits 66', async () => {
    const before = status(ids.done2);
    const result = await runHls(['replay', String(ids.done2), '999999'], { env: ws.env });
    expect(result.code).toBe(66);
    expect(result.stderr).toBe('error: no event with id or delivery "999999"\n');
    expect(status(ids.done2)).toEqual(before);
  });
});
