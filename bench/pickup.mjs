#!/usr/bin/env node
// Pickup latency on PostgreSQL: from an event's enqueue to its claim by an idle worker, p50 and p95, with
// LISTEN (queue.listen: true, the default) and, paired in the same run, with polling only
// (queue.listen: false). Each mode has its own database on one throwaway cluster (fsync on) and its own
// W real `hls worker` processes (concurrency 2, queue.poll_ms --poll) whose `issues` handler is a no-op
// module; both sets run at once. This process queues --events deliveries into each database through the
// store, alternating between the two, 100–300 ms apart (random, so that a delivery falls anywhere in a
// poll interval). Latency = started_at − created_at of each event, both taken by the database's clock:
// created_at when its INSERT runs (before the commit that notifies), started_at when a claim takes it.
// Usage: node bench/pickup.mjs [--events N] [--workers W] [--poll MS]   (defaults 40, 2, 1000; needs `npm run build`)
// Exits 1 when a worker fails or an event is not completed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../dist/store/open-store.js';
import {
  benchArgs,
  integerOption,
  issueOpenedPayload,
  issuesDelivery,
  quantile,
  runProblems,
  startPostgres,
  startWorker,
  statusCounts,
  withStore,
} from './lib.mjs';

const TARGET_P95_MS = 100;
/** How long the workers get to claim the last deliveries before the run counts as failed. */
const DRAIN_MS = 30_000;

const usage = 'usage: node bench/pickup.mjs [--events N] [--workers W] [--poll MS]\n';
const values = benchArgs('pickup', usage, {
  events: { type: 'string', default: '40' },
  workers: { type: 'string', default: '2' },
  poll: { type: 'string', default: '1000' },
});
const events = integerOption('pickup', 'events', values.events, 1, 10_000);
const workers = integerOption('pickup', 'workers', values.workers, 1, 32);
const pollMs = integerOption('pickup', 'poll', values.poll, 10, 60_000);

const dir = mkdtempSync(join(tmpdir(), 'hls-bench-pickup-'));
const problems = [];
let cluster;
const running = [];
try {
  cluster = await startPostgres(dir);
  const noopHandler = join(dir, 'noop-handler.mjs');
  writeFileSync(noopHandler, 'export default async function handle() {}\n');
  const modes = [];
  for (const listen of [true, false]) {
    const name = listen ? 'listen' : 'poll';
    const url = cluster.createDatabase(`pickup_${name}`);
    await withStore(url, async () => {}, { create: true });
    const config = join(dir, `${name}.yaml`);
    writeFileSync(
      config,
      JSON.stringify({
        database: { url },
        handlers: { issues: noopHandler },
        queue: { poll_ms: pollMs, listen, concurrency: 2 },
        logging: { format: 'json', level: 'info' },
      }),
    );
    const started = Array.from({ length: workers }, (_, w) => idleWorker(config, `bench-${name}-${w + 1}`));
    running.push(...started);
    await Promise.all(started.map((worker) => worker.ready));
    modes.push({ name, url, workers: started });
  }

  await Promise.all(
    modes.map(async (mode) => {
      mode.store = await openStore(mode.url, { maxConnections: 1 });
    }),
  );
  try {
    for (let n = 1; n <= events; n++) {
      for (const { name, store } of modes) {
        await store.queue.enqueue(issuesDelivery(`${name}-${n}`, issueOpenedPayload(n)));
        await sleep(100 + Math.random() * 200);
      }
    }
  } finally {
    await Promise.all(modes.map((mode) => mode.store.close()));
  }

  for (const { name, url } of modes) {
    const latencies = await pickupLatencies(name, url);
    const verdict =
      name === 'listen'
        ? ` target_p95<=${TARGET_P95_MS} ${quantile(latencies, 0.95) <= TARGET_P95_MS ? 'PASS' : 'MISS'}`
        : '';
    process.stdout.write(
      `pickup backend=postgres mode=${name} workers=${workers} poll_ms=${pollMs} events=${latencies.length} ` +
        `p50_ms=${quantile(latencies, 0.5)} p95_ms=${quantile(latencies, 0.95)} max_ms=${Math.max(...latencies)}${verdict}\n`,
    );
  }
  for (const worker of running) worker.child.kill('SIGTERM');
  for (const { name, url, workers: started } of modes) {
    problems.push(...(await runProblems(name, url, await Promise.all(started.map((worker) => worker.exit)))));
  }
} finally {
  for (const worker of running) worker.child.kill('SIGKILL');
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}
for (const problem of problems) process.stderr.write(`pickup: FAIL ${problem}\n`);
process.exitCode = problems.length > 0 ? 1 : 0;

/** A long-running `hls worker`; `ready` once it has started (it listens, where it does, before that). */
function idleWorker(config, id) {
  let resolveReady;
  const ready = new Promise((resolve) => (resolveReady = resolve));
  const worker = startWorker(config, id, [], (chunk) => chunk.includes('"worker started"') && resolveReady());
  return { ...worker, ready: Promise.race([ready, worker.exit.then((exit) => Promise.reject(exitError(id, exit)))]) };
}

function exitError(id, exit) {
  return new Error(`worker ${id} exited ${exit.code} before it started: ${exit.stderrTail.trim().split('\n').pop()}`);
}

/** Once every delivery of mode `name` has been claimed, the ms from enqueue to claim of each. */
async function pickupLatencies(name, url) {
  const deadline = performance.now() + DRAIN_MS;
  while ((await statusCounts(url)).completed < events && performance.now() < deadline) await sleep(100);
  return withStore(url, async (store) => {
    const latencies = [];
    for (let n = 1; n <= events; n++) {
      const event = await store.queue.find(`${name}-${n}`);
      if (event?.started_at) latencies.push(event.started_at - event.created_at);
    }
    return latencies;
  });
}
