#!/usr/bin/env node
// End-to-end events/s of W `hls worker --once` processes × C concurrency through the whole triage
// pipeline, against a fake Anthropic API that takes L ms per answer (and a zero-latency fake GitHub,
// write pacing off), paired with the theoretical bound W·C/L: with every slot busy on a model call
// all the time, W·C events finish every L ms. efficiency = measured / bound; what is missing is the
// rest of each event (claim, SQLite, prompt rendering, GitHub calls) plus the workers' start-up, both
// included in the wall time (spawn of the first worker → exit of the last). By default a small matrix
// (W×C = 1×1, 1×4, 2×4) shows how the figure scales with the slots; --workers / --concurrency run one
// pairing. Events are inserted straight into the database before the workers start (the bench measures
// the workers, not `hls queue`); each run has its own database and fresh fakes.
// The fakes are TypeScript (src/simulators/*.ts): esbuild bundles them to a temp .mjs first.
// Usage: node bench/throughput.mjs [--latency MS] [--workers W] [--concurrency C] [--events N]
//        (defaults 200 ms, matrix 1×1 1×4 2×4, 200 events; needs `npm run build`)
// Exits 1 when a check fails: a worker exiting non-zero, an event not completed, or model calls /
// bot comments not one per event.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REPO,
  benchArgs,
  botComments,
  integerOption,
  loadFakes,
  runProblems,
  runWorker,
  seedIssues,
  writeRunConfig,
} from './lib.mjs';

const MATRIX = [
  { workers: 1, concurrency: 1 },
  { workers: 1, concurrency: 4 },
  { workers: 2, concurrency: 4 },
];

const usage = 'usage: node bench/throughput.mjs [--latency MS] [--workers W] [--concurrency C] [--events N]\n';
const values = benchArgs('throughput', usage, {
  latency: { type: 'string', default: '200' },
  workers: { type: 'string' },
  concurrency: { type: 'string' },
  events: { type: 'string', default: '200' },
});
const latencyMs = integerOption('throughput', 'latency', values.latency, 1, 60_000);
const events = integerOption('throughput', 'events', values.events, 1, 100_000);
const single = values.workers !== undefined || values.concurrency !== undefined;
const runs = single
  ? [
      {
        workers: values.workers === undefined ? 2 : integerOption('throughput', 'workers', values.workers, 1, 32),
        concurrency:
          values.concurrency === undefined ? 4 : integerOption('throughput', 'concurrency', values.concurrency, 1, 64),
      },
    ]
  : MATRIX;

const dir = mkdtempSync(join(tmpdir(), 'hls-bench-throughput-'));
const problems = [];
try {
  const { startFakeAnthropic, startFakeGitHub } = await loadFakes(dir);
  for (const [index, run] of runs.entries()) {
    const anthropic = await startFakeAnthropic({ latencyMs });
    const github = await startFakeGitHub({ latencyMs: 0, rateLimit: 1_000_000_000 });
    try {
      github.repo(REPO).labels.push({ name: 'bug', color: 'd73a4a', description: 'Something is broken' });
      const name = `${run.workers}x${run.concurrency}`;
      const { db, config } = writeRunConfig(dir, `run${index}-${name}`, {
        anthropic,
        github,
        labels: { allowed: ['bug'] },
        queue: { poll_ms: 50 },
        level: 'warn',
      });
      await seedIssues(db, { events, prefix: name, github });
      const started = performance.now();
      const exits = await Promise.all(
        Array.from({ length: run.workers }, (_, w) => runWorker(config, `bench-${name}-${w + 1}`, run.concurrency)),
      );
      const seconds = (performance.now() - started) / 1000;

      const perSecond = events / seconds;
      const bound = (run.workers * run.concurrency * 1000) / latencyMs;
      process.stdout.write(
        `throughput: latency_ms=${latencyMs} workers=${run.workers} concurrency=${run.concurrency} events=${events} ` +
          `events_per_s=${perSecond.toFixed(1)} bound_per_s=${bound.toFixed(1)} efficiency=${(perSecond / bound).toFixed(2)}\n`,
      );

      problems.push(...(await runProblems(name, db, exits)));
      const calls = anthropic.messageCalls().length;
      if (calls !== events) problems.push(`${name}: ${calls} model calls for ${events} events`);
      const comments = botComments(github);
      if (comments !== events) problems.push(`${name}: ${comments} bot comments for ${events} events`);
    } finally {
      await Promise.all([anthropic.close(), github.close()]);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
for (const problem of problems) process.stderr.write(`throughput: FAIL ${problem}\n`);
process.exitCode = problems.length > 0 ? 1 : 0;
