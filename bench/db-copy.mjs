#!/usr/bin/env node
// `hls db copy` throughput: an SQLite file of --events issues.opened events (each payload padded to about
// --payload-kb KiB, as real GitHub payloads are 5-30 KiB) copied into a new database of a throwaway
// PostgreSQL cluster with fsync on (test/helpers/postgres-cluster.ts). Prints the command's wall time,
// rows/s (events and their history rows) and payload MiB/s; the copy's own comparison must pass.
// Usage: node bench/db-copy.mjs [--events N] [--payload-kb K]   (defaults 20000 and 8; needs `npm run build`)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HLS,
  ROOT,
  benchArgs,
  integerOption,
  issueOpenedPayload,
  issuesDelivery,
  startPostgres,
  withStore,
} from './lib.mjs';

const usage = 'usage: node bench/db-copy.mjs [--events N] [--payload-kb K]\n';
const values = benchArgs('db-copy', usage, {
  events: { type: 'string', default: '20000' },
  'payload-kb': { type: 'string', default: '8' },
});
const events = integerOption('db-copy', 'events', values.events, 1, 1_000_000);
const payloadKb = integerOption('db-copy', 'payload-kb', values['payload-kb'], 0, 1024);

const dir = mkdtempSync(join(tmpdir(), 'hls-bench-db-copy-'));
const cluster = await startPostgres(dir);
try {
  const file = join(dir, 'hls.db');
  const filler = 'x'.repeat(payloadKb * 1024);
  let payloadBytes = 0;
  const seeded = performance.now();
  await withStore(
    file,
    async (store) => {
      for (let number = 1; number <= events; number++) {
        const delivery = issuesDelivery(`bench-copy-${number}`, issueOpenedPayload(number, undefined, filler));
        payloadBytes += delivery.payload.length;
        await store.queue.enqueue(delivery);
      }
    },
    { create: true },
  );
  process.stdout.write(
    `seeded ${events} events (${(payloadBytes / 2 ** 20).toFixed(1)} MiB of payloads) in ` +
      `${((performance.now() - seeded) / 1000).toFixed(1)} s\n`,
  );

  const url = cluster.createDatabase('hls_copy_bench');
  const started = performance.now();
  const run = spawnSync(process.execPath, [HLS, 'db', 'copy', '--from', file, '--to', url, '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 16 * 2 ** 20,
  });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) {
    process.stderr.write(`db-copy: hls db copy exited ${run.status}: ${run.stderr}`);
    process.exitCode = 1;
  } else {
    const rows = JSON.parse(run.stdout).tables.reduce((sum, table) => sum + table.copied, 0);
    process.stdout.write(
      `hls db copy: ${rows} rows in ${seconds.toFixed(1)} s (copy, then both sides read back and compared): ` +
        `${Math.round(rows / seconds)} rows/s, ${(payloadBytes / 2 ** 20 / seconds).toFixed(1)} MiB/s of payloads\n`,
    );
  }
} finally {
  cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
