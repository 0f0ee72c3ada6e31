#!/usr/bin/env node
// Claim + complete per second through the store (queue.claim, then queue.finish with `completed`, one
// event at a time) by P worker processes on one queue, each process with its own store (bench/claimer.mjs),
// on SQLite and on PostgreSQL, paired in one run: for each P (1, 4, 8 by default) every backend runs on a
// fresh queue of --events issues.opened events, one issue (thread) each, in an order that alternates.
// A run ends when the queue is empty or after --seconds; the time runs from the moment every process has
// opened its store to the last one stopping, and `events` is how many were completed meanwhile.
// PostgreSQL is a throwaway cluster on this machine (test/helpers/postgres-cluster.ts) with fsync on, as
// a production server runs, measured twice: as hls runs it (synchronous_commit=on: each claim and each
// finish waits for its WAL flush) and with synchronous_commit=off set on the database (a commit returns
// before the flush, as SQLite's synchronous=NORMAL of the worker path; a crash of the server, not of hls,
// may lose the last ~0.6 s of claims and finishes, whose events then run again). SQLite is a file in a
// temp dir, opened as the worker opens it.
// Usage: node bench/claim.mjs [--events N] [--procs 1,4,8] [--seconds S]
//        (defaults 20000, 1,4,8 and 10; needs `npm run build`)
// Exits 1 when a run completes an event twice or leaves one in processing.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchArgs,
  integerOption,
  issueOpenedPayload,
  issuesDelivery,
  startPostgres,
  statusCounts,
  withStore,
} from './lib.mjs';

/** Enqueues in flight at once while seeding. */
const SEED_CONCURRENCY = 16;

const usage = 'usage: node bench/claim.mjs [--events N] [--procs P,P,...] [--seconds S]\n';
const values = benchArgs('claim', usage, {
  events: { type: 'string', default: '20000' },
  procs: { type: 'string', default: '1,4,8' },
  seconds: { type: 'string', default: '10' },
});
const events = integerOption('claim', 'events', values.events, 1, 1_000_000);
const procsList = values.procs.split(',').map((p) => integerOption('claim', 'procs', p, 1, 64));
const limitMs = integerOption('claim', 'seconds', values.seconds, 1, 3600) * 1000;

const dir = mkdtempSync(join(tmpdir(), 'hls-bench-claim-'));
const problems = [];
let cluster;
try {
  cluster = await startPostgres(dir);
  /** Each backend as measured: the label it prints, and a fresh seeded queue of its own named `name`. */
  const backends = [
    { label: 'backend=sqlite', queue: (name) => seededQueue(join(dir, `${name}.db`)) },
    { label: 'backend=postgres synchronous_commit=on', queue: (name) => seededPostgres(name, 'on') },
    { label: 'backend=postgres synchronous_commit=off', queue: (name) => seededPostgres(name, 'off') },
  ];
  for (const [index, procs] of procsList.entries()) {
    for (const [n, backend] of rotated(backends, index).entries()) {
      const name = `claim_${procs}_${index}_${n}`;
      const target = await backend.queue(name);
      const { seconds, claimed } = await claimAll(target, procs);
      process.stdout.write(
        `claim ${backend.label} procs=${procs} events=${claimed} seconds=${seconds.toFixed(1)} per_s=${(claimed / seconds).toFixed(0)}\n`,
      );
      const { completed, processing } = await statusCounts(target);
      if (completed !== claimed || processing > 0) {
        problems.push(
          `${backend.label} procs=${procs}: ${claimed} claims, ${completed} completed, ${processing} processing`,
        );
      }
    }
  }
} finally {
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}
for (const problem of problems) process.stderr.write(`claim: FAIL ${problem}\n`);
process.exitCode = problems.length > 0 ? 1 : 0;

/** `list` rotated left by `by` places, so that each backend takes its turn at going first. */
function rotated(list, by) {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/**
 * A new database `name` on the cluster, seeded with synchronous_commit off (quick), then set to
 * `synchronousCommit` for the connections the claimers open.
 */
async function seededPostgres(name, synchronousCommit) {
  const target = cluster.createDatabase(name);
  cluster.psql(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  await seededQueue(target);
  cluster.psql(`ALTER DATABASE ${name} SET synchronous_commit = ${synchronousCommit}`);
  return target;
}

/** Queues `events` issues.opened events, one issue each, at `target`; returns `target`. */
async function seededQueue(target) {
  await withStore(
    target,
    async (store) => {
      let next = 0;
      const enqueueRest = async () => {
        for (let number; (number = ++next) <= events;) {
          await store.queue.enqueue(issuesDelivery(`bench-${number}`, issueOpenedPayload(number)));
        }
      };
      await Promise.all(Array.from({ length: SEED_CONCURRENCY }, enqueueRest));
    },
    { create: true, maxConnections: SEED_CONCURRENCY },
  );
  return target;
}

/** Starts `procs` claimer processes on `target`, lets them go together, and waits for the last one. */
async function claimAll(target, procs) {
  const claimers = Array.from({ length: procs }, (_, n) => startClaimer(target, `bench-${n + 1}`));
  await Promise.all(claimers.map((c) => c.ready));
  const started = performance.now();
  for (const c of claimers) c.child.send({ limitMs });
  const counts = await Promise.all(claimers.map((c) => c.done));
  return { seconds: (performance.now() - started) / 1000, claimed: counts.reduce((a, b) => a + b, 0) };
}

/** A claimer process: `ready` once its store is open, `done` with how many events it completed. */
function startClaimer(target, worker) {
  const child = fork(new URL('./claimer.mjs', import.meta.url), [target, worker], { stdio: 'inherit' });
  const exited = new Promise((_, reject) =>
    child.on('exit', (code) => reject(new Error(`claimer ${worker} exited ${code} before reporting`))),
  );
  const message = (match) =>
    Promise.race([new Promise((resolve) => child.on('message', (m) => match(m) && resolve(m))), exited]);
  return {
    child,
    ready: message((m) => m === 'ready'),
    done: message((m) => typeof m === 'object').then((m) => m.claimed),
  };
}
