import { statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND } from './helpers/backend.js';
import { query, runHls } from './helpers/hls.js';
import { queueIssueEvent, queuePayload, stage, type Stage } from './helpers/pipeline.js';

let s: Stage | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** The SQLite file and its WAL (PostgreSQL's VACUUM keeps freed pages for reuse: nothing to measure). */
const fileSize = (db: string) =>
  statSync(db).size +
  (() => {
    try {
      return statSync(`${db}-wal`).size;
    } catch {
      return 0;
    }
  })();

describe('hls prune', () => {
  it('drops old payloads and unreferenced rows, keeps the ledger, daily totals and failed events, and shrinks an SQLite file', async () => {
    s = await stage();
    const analysed = await queueIssueEvent(s, 1);
    const pushes: number[] = [];
    for (let i = 0; i < 6; i++) {
      pushes.push(
        await queuePayload(s, 'push', { ref: 'refs/heads/main', commits: [{ message: 'x'.repeat(400_000) }] }),
      );
    }
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);
    const statsBefore = JSON.parse((await runHls(['stats', '--json'], { env: s.env })).stdout);
    const sizeBefore = BACKEND === 'sqlite' ? fileSize(s.db) : 0;

    const readings = query<{ n: number }>(s.db, 'SELECT count(*) AS n FROM rate_limit_history')[0]!.n;
    const limits = query<{ n: number }>(
      s.db,
      'SELECT count(*) AS n FROM (SELECT DISTINCT api, key_sha256, resource FROM rate_limit_history) AS limits',
    )[0]!.n;
    expect(limits).toBeGreaterThanOrEqual(2); // GitHub core and at least one Anthropic limit
    expect(readings).toBeGreaterThan(limits);

    const dry = await runHls(['prune', '--older-than', '0s', '--delete-rows', '--dry-run', '--json'], { env: s.env });
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dry_run: true,
      payloads_dropped: 7,
      rows_deleted: 6,
      rate_limit_readings_deleted: readings - limits,
    });
    expect(query(s.db, 'SELECT count(*) AS n FROM webhook_events WHERE payload IS NULL')).toEqual([{ n: 0 }]);

    const payloadsOnly = await runHls(['prune', '--older-than', '0s'], { env: s.env });
    expect(payloadsOnly.code).toBe(0);
    expect(payloadsOnly.stdout).toMatch(/^dropped 7 payload\(s\) \(2\.\d\d MiB\) of events finished before /m);
    expect(payloadsOnly.stdout).toMatch(/^deleted 0 row\(s\) \(rows are kept: --delete-rows or prune\.delete_rows\)$/m);
    expect(payloadsOnly.stdout).toContain(
      `deleted ${readings - limits} rate-limit reading(s) (the newest of each limit is kept)`,
    );
    expect(query(s.db, 'SELECT count(*) AS n FROM rate_limit_history')).toEqual([{ n: limits }]);
    const shown = await runHls(['show', String(pushes[0]), '--payload'], { env: s.env });
    expect(shown.code).toBe(66);
    expect(shown.stderr).toBe(`error: event ${pushes[0]}: payload was pruned\n`);

    const rows = await runHls(['prune', '--older-than', '0s', '--delete-rows', '--json'], { env: s.env });
    expect(JSON.parse(rows.stdout)).toMatchObject({ payloads_dropped: 0, rows_deleted: 6 });
    expect(query<{ id: number }>(s.db, 'SELECT id FROM webhook_events ORDER BY id')).toEqual([{ id: analysed }]);
    expect(query(s.db, 'SELECT count(*) AS n FROM claude_analyses')).toEqual([{ n: 1 }]);
    if (BACKEND === 'sqlite') expect(fileSize(s.db)).toBeLessThan(sizeBefore / 2);

    const statsAfter = JSON.parse((await runHls(['stats', '--json'], { env: s.env })).stdout);
    expect(statsAfter.daily).toEqual(statsBefore.daily);
    expect(statsAfter.today).toEqual(statsBefore.today);
  });

  it('keeps failed events (they may be replayed) and anything newer than the retention', async () => {
    s = await stage();
    const failing = await queueIssueEvent(s, 2);
    s.anthropic.enqueue({ kind: 'text', text: 'not json' });
    await runHls(['worker', '--once'], { env: s.env });
    expect(query(s.db, 'SELECT status FROM webhook_events WHERE id = ?', failing)).toEqual([{ status: 'failed' }]);
    const recent = await queuePayload(s, 'push', { ref: 'refs/heads/main' });
    await runHls(['worker', '--once'], { env: s.env });
    const result = JSON.parse((await runHls(['prune', '--delete-rows', '--json'], { env: s.env })).stdout);
    expect(result).toMatchObject({ payloads_dropped: 0, rows_deleted: 0 });
    expect(
      query(
        s.db,
        'SELECT count(*) AS n FROM webhook_events WHERE payload IS NOT NULL AND id IN (?, ?)',
        failing,
        recent,
      ),
    ).toEqual([{ n: 2 }]);
  });
});
