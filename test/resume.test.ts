/**
 * `hls resume KIND` lifts a rate-limit pause or the Anthropic spend-limit stop by hand, records it in
 * the pause history that `hls stats` shows, and makes the events it parked due; and the action record
 * of an event resumed after a mid-action deferral says what hls really did.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SPEND_LIMIT_REPLY } from '../src/simulators/anthropic.js';
import { BACKEND } from './helpers/backend.js';
import { eventRow, query, runHls, waitFor } from './helpers/hls.js';
import { queueIssueEvent, REPO, stage, type Stage } from './helpers/pipeline.js';

let s: Stage | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const pauses = (db: string) => query<{ scope: string; until_at: number }>(db, 'SELECT * FROM api_pauses');

describe('hls resume', () => {
  it('lifts the spend-limit stop: recorded in the history stats shows, the waiting events run at once', async () => {
    s = await stage({ config: { claude: { spend_limit_recheck_seconds: 3600 } } });
    s.anthropic.enqueue(SPEND_LIMIT_REPLY);
    const ids = [await queueIssueEvent(s, 40), await queueIssueEvent(s, 41)];
    expect((await runHls(['worker', '--once', '--concurrency', '1'], { env: s.env })).code).toBe(0);
    for (const id of ids) {
      expect(eventRow(s.db, id).wait_reason).toMatch(/^Anthropic spend limit reached/);
      expect(eventRow(s.db, id).scheduled_at).toBeGreaterThan(Date.now() + 3_000_000);
    }
    const [pause] = pauses(s.db);

    const dry = await runHls(['resume', 'anthropic_spend', '--dry-run'], { env: s.env });
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    expect(dry.stdout).toMatch(
      /^would resume anthropic_spend \(key [0-9a-f]{12}, "Anthropic spend limit reached", until \S+\): 2 waiting event\(s\) would be due now\n$/,
    );
    expect(pauses(s.db)).toEqual([pause]);
    expect(eventRow(s.db, ids[0]!).scheduled_at).toBeGreaterThan(Date.now() + 3_000_000);

    const before = Date.now();
    const resumed = await runHls(['resume', 'anthropic_spend', '--note', 'limit raised in the console', '--json'], {
      env: s.env,
    });
    expect(resumed).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(resumed.stdout)).toEqual({
      dry_run: false,
      resumed: [
        expect.objectContaining({
          kind: 'anthropic_spend',
          reason: 'Anthropic spend limit reached',
          until: new Date(pause!.until_at).toISOString(),
          note: 'limit raised in the console',
          resumed_by: expect.stringMatching(/^\S+@\S+$/),
          events_resumed: 2,
        }),
      ],
    });
    expect(pauses(s.db)).toEqual([]);
    for (const id of ids) expect(eventRow(s.db, id).scheduled_at).toBeLessThanOrEqual(Date.now());
    const [history] = query<Record<string, unknown>>(s.db, 'SELECT * FROM api_pause_history');
    expect(history).toMatchObject({ scope: pause!.scope, note: 'limit raised in the console', events_resumed: 2 });
    expect(history!.resumed_at).toBeGreaterThanOrEqual(before);

    const stats = JSON.parse((await runHls(['stats', '--json'], { env: s.env })).stdout);
    expect(stats.pauses).toEqual([]);
    expect(stats.resumed_pauses).toEqual([
      expect.objectContaining({ kind: 'anthropic_spend', note: 'limit raised in the console', events_resumed: 2 }),
    ]);
    const text = (await runHls(['stats'], { env: s.env })).stdout;
    expect(text).toMatch(
      /\n {2}anthropic_spend {2}at \S+ by \S+@\S+ {2}\(Anthropic spend limit reached, until \S+\) {2}2 event\(s\) made due {2}note: limit raised in the console\n/,
    );

    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);
    for (const id of ids) expect(eventRow(s.db, id)).toMatchObject({ status: 'completed', attempts: 1 });

    const again = await runHls(['resume', 'anthropic_spend'], { env: s.env });
    expect(again).toMatchObject({ code: 0, stdout: 'no anthropic_spend pause in force: nothing to resume\n' });
  }, 60_000);

  it('usage errors and a missing database get one line and the documented code', async () => {
    s = await stage();
    const bad = await runHls(['resume', 'everything'], { env: s.env });
    expect(bad.code).toBe(64);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: .*'everything'.*github, anthropic, anthropic_spend, all/),
    ]);
    const none = await runHls(['resume'], { env: s.env });
    expect(none.code).toBe(64);
    const missing = await runHls(['resume', 'all'], { env: s.env });
    expect(missing.code).toBe(66);
    // A new SQLite file does not exist yet; a new PostgreSQL database exists but holds nothing.
    expect(missing.stderr).toMatch(
      BACKEND === 'sqlite'
        ? /^error: database \S+ does not exist/
        : /^error: database \S+ is empty: nothing has been queued/,
    );
    const help = await runHls(['resume', '--help'], { env: s.env });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: hls resume \[options\] <kind>\n/);
    expect(help.stdout).toContain('anthropic_spend (the Anthropic spend limit), all.');
    expect(help.stdout).toContain('--dry-run');
  });
});

describe('the action record of an event resumed after a mid-action deferral', () => {
  it('keeps the labels added before the deferral as added, not unchanged', async () => {
    s = await stage({ config: { github: { pacing: { max_wait_seconds: 1 } } } });
    // The labels go on, then the comment is answered with a secondary limit longer than a worker waits.
    s.github.failNext(
      { method: 'POST', path: /\/issues\/50\/comments$/ },
      { status: 403, headers: { 'retry-after': '2' } },
    );
    const id = await queueIssueEvent(s, 50);
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);
    const deferred = eventRow(s.db, id);
    expect(deferred).toMatchObject({ status: 'pending', attempts: 0 });
    const added = ['bug', 'difficulty: moderate'];
    expect(s.github.repo(REPO).issues.get(50)!.labels).toEqual(added);

    await waitFor(() => Date.now() > deferred.scheduled_at, 10_000, 'the deferral to end');
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);

    expect(eventRow(s.db, id)).toMatchObject({ status: 'completed', attempts: 1 });
    expect(s.anthropic.messageCalls()).toHaveLength(1);
    const [row] = query<{ github_actions_json: string }>(
      s.db,
      'SELECT github_actions_json FROM claude_analyses WHERE webhook_id = ?',
      id,
    );
    const record = JSON.parse(row!.github_actions_json);
    expect(record.labels).toEqual({ action: 'added', added, ignored: [] });
    expect(record.comment).toMatchObject({ action: 'created' });
  }, 60_000);
});
