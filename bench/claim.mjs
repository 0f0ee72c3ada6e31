#!/usr/bin/env node
// Claim + complete throughput of one worker process on a deep backlog: the store's claim, which walks
// the partial "due" index, against, paired in the same run, the same statement on a copy of the file
// without that index (the baseline: the planner must sort every due row on each claim).
// Usage: node bench/claim.mjs [--backlog N] [--claims N]
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { claimNextEvent } from '../dist/store/claim.js';
import { enqueueEvent } from '../dist/store/enqueue.js';
import { finishEvent } from '../dist/store/lease.js';
import { openDatabase } from '../dist/store/open.js';

const { values } = parseArgs({
  options: { backlog: { type: 'string', default: '20000' }, claims: { type: 'string', default: '2000' } },
});
const backlog = Number(values.backlog);
const claims = Number(values.claims);
const dir = mkdtempSync(join(tmpdir(), 'hls-bench-claim-'));

try {
  const seeded = join(dir, 'seed.db');
  const db = openDatabase(seeded, { create: true });
  const payload = Buffer.from(JSON.stringify({ action: 'opened', issue: { number: 1, body: 'x'.repeat(2000) } }));
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < backlog; i++) {
      enqueueEvent(db, {
        deliveryId: `bench-${i}`,
        eventType: 'issues',
        action: 'opened',
        repository: 'octo-org/widgets',
        threadKey: `octo-org/widgets#${i}`,
        senderLogin: 'alice',
        senderType: 'User',
        hookId: null,
        payload,
        payloadSha256: 'x',
        signature: null,
        now: now - backlog + i,
      });
    }
    // Half of the backlog finished already, as in a queue that has been running for a while.
    db.prepare(`UPDATE webhook_events SET status = 'completed' WHERE id % 2 = 0`).run();
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();

  const plannerChoice = (conn) => {
    const statement = conn.prepare(
      `UPDATE webhook_events
          SET status = 'processing', locked_by = @worker, locked_until = @leaseUntil, started_at = @now, attempts = attempts + 1
        WHERE id = (SELECT id FROM webhook_events WHERE status IN ('pending', 'retry') AND scheduled_at <= @now
                     ORDER BY priority, scheduled_at, id LIMIT 1)
       RETURNING *`,
    );
    return (worker, now, leaseMs) => statement.get({ worker, now, leaseUntil: now + leaseMs });
  };

  const run = (indexed) => {
    const file = join(dir, indexed ? 'indexed.db' : 'unindexed.db');
    copyFileSync(seeded, file);
    const conn = openDatabase(file);
    if (!indexed) conn.exec('DROP INDEX webhook_events_due');
    const claim = indexed ? (worker, now, leaseMs) => claimNextEvent(conn, worker, now, leaseMs) : plannerChoice(conn);
    const started = process.hrtime.bigint();
    let done = 0;
    for (; done < claims; done++) {
      const event = claim('bench', Date.now(), 60_000);
      if (!event) break;
      finishEvent(
        conn,
        { id: event.id, worker: 'bench', attempt: event.attempts },
        { status: 'completed' },
        Date.now(),
      );
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    conn.close();
    return done / seconds;
  };

  const rounds = [];
  for (let round = 0; round < 3; round++) rounds.push({ with: run(true), without: run(false) });
  const median = (list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const withIndex = median(rounds.map((r) => r.with));
  const without = median(rounds.map((r) => r.without));
  console.log(
    `claim: backlog=${backlog} due=${backlog / 2} claims=${claims} store_claim_per_s=${withIndex.toFixed(0)} ` +
      `no_due_index_per_s=${without.toFixed(0)} speedup=${(withIndex / without).toFixed(1)}x (median of 3 paired rounds)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
