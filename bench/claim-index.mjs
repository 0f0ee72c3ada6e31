#!/usr/bin/env node
// Claim + complete throughput of one process on a deep SQLite backlog: the store's claim, which walks the
// partial "due" index, against, paired in the same run, the same claim statement on a copy of the file
// without that index (the baseline: the planner must sort every due row on each claim). The store's own
// claim names the index (INDEXED BY) and refuses a file without it, so the baseline runs the statement
// through better-sqlite3; both complete their events through the store.
// Usage: node bench/claim-index.mjs [--backlog N] [--claims N]   (defaults 20000 and 2000; needs `npm run build`)
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { integerOption, issueOpenedPayload, issuesDelivery, withStore } from './lib.mjs';

/** The store's claim (src/store/sqlite/claim.ts) without `INDEXED BY webhook_events_due`. */
const CLAIM_WITHOUT_INDEX = `
  UPDATE webhook_events
     SET status = 'processing', locked_by = @worker, locked_until = @leaseUntil,
         started_at = @now, attempts = attempts + 1
   WHERE id = (SELECT due.id FROM webhook_events AS due
                WHERE due.status IN ('pending', 'retry') AND due.scheduled_at <= @now
                  AND (due.thread_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM webhook_events AS busy
                         WHERE busy.thread_key = due.thread_key AND busy.status = 'processing'))
                ORDER BY due.priority, due.scheduled_at, due.id
                LIMIT 1)
  RETURNING *`;
const WORKER = 'bench';
const LEASE_MS = 60_000;

const { values } = parseArgs({
  options: { backlog: { type: 'string', default: '20000' }, claims: { type: 'string', default: '2000' } },
});
const backlog = integerOption('claim-index', 'backlog', values.backlog, 2, 1_000_000);
const claims = integerOption('claim-index', 'claims', values.claims, 1, 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'hls-bench-claim-index-'));

try {
  const seeded = join(dir, 'seed.db');
  await withStore(
    seeded,
    async (store) => {
      const payload = (number) => issueOpenedPayload(number, 'Widget crashes', 'x'.repeat(2000));
      for (let n = 1; n <= backlog; n++) await store.queue.enqueue(issuesDelivery(`bench-${n}`, payload(n)));
      // The older half finished already, as in a queue that has been running for a while.
      await claimAndComplete(store, () => store.queue.claim(WORKER, LEASE_MS), Math.floor(backlog / 2));
    },
    { create: true },
  );

  const run = (indexed) => {
    const file = join(dir, indexed ? 'indexed.db' : 'unindexed.db');
    copyFileSync(seeded, file);
    return withStore(file, async (store) => {
      if (indexed) return timedClaims(store, () => store.queue.claim(WORKER, LEASE_MS));
      const conn = new Database(file);
      try {
        conn.exec('DROP INDEX webhook_events_due');
        const statement = conn.prepare(CLAIM_WITHOUT_INDEX);
        return await timedClaims(store, async () => {
          const now = store.clock();
          return statement.get({ worker: WORKER, now, leaseUntil: now + LEASE_MS });
        });
      } finally {
        conn.close();
      }
    });
  };

  const rounds = [];
  for (let round = 0; round < 3; round++) rounds.push({ with: await run(true), without: await run(false) });
  const median = (list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const withIndex = median(rounds.map((r) => r.with));
  const without = median(rounds.map((r) => r.without));
  console.log(
    `claim-index: backlog=${backlog} due=${backlog - Math.floor(backlog / 2)} claims=${claims} store_claim_per_s=${withIndex.toFixed(0)} ` +
      `no_due_index_per_s=${without.toFixed(0)} speedup=${(withIndex / without).toFixed(1)}x (median of 3 paired rounds)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Claims with `claim` and completes through `store` up to `limit` events; how many it got. */
async function claimAndComplete(store, claim, limit) {
  let done = 0;
  for (let event; done < limit && (event = await claim()); done++) {
    await store.queue.finish({ id: event.id, worker: WORKER, attempt: event.attempts }, { status: 'completed' });
  }
  return done;
}

/** Claims + completions per second of `claimAndComplete` for `claims` events. */
async function timedClaims(store, claim) {
  const started = performance.now();
  const done = await claimAndComplete(store, claim, claims);
  return done / ((performance.now() - started) / 1000);
}
