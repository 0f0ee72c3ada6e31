#!/usr/bin/env node
// How close W `hls worker --once` processes together run to GitHub's limits on content-creating
// requests (POST, PATCH, PUT, DELETE) of one token, paced through their SQLite file, without being
// refused. A burst of N issues.opened events (a comment and a label each: 2N writes) goes through the
// whole triage pipeline against zero-latency loopback fakes; the fake GitHub enforces GitHub's
// secondary limits (1 s between writes, 80 per minute, 500 per hour), and hls's `github.pacing` has the
// same numbers, both divided in time by S (--scale) so that a run takes seconds: S=10 is 0.1 s apart,
// 80 per 6 s, 500 per 360 s. With GitHub's numbers the interval is what binds a burst (60 writes a
// minute, under the 80) until 500 writes have been sent within the hour. Paired in the same run with a
// baseline where `pacing.enabled: false`, which the fake must refuse (secondary_limit_answers > 0). The
// baseline has its own, smaller burst (--baseline-events): without pacing the workers write together
// whenever they may, all but one are refused, and every refusal pauses them all for its retry-after
// (at least 1 s, not scaled), so it gets about one write accepted a second.
// One line per run, every figure scaled back to real-GitHub terms:
//   completed               events completed
//   writes                  writes the fake accepted
//   allowed_per_min         the fastest the limits allow that many writes: (writes − 1) over the
//                           earliest time the last one could be sent (every write at the earliest moment)
//   achieved_per_min        (writes − 1) over the time from the first accepted write to the last
//   ratio                   achieved / allowed (hls keeps ~5% under each window)
//   secondary_limit_answers writes the fake refused
//   min_gap_ms              the shortest gap between two accepted writes (GitHub asks for 1000)
// Events are inserted straight into the database; each run has its own database and fresh fakes.
// The fakes are TypeScript (src/simulators/*.ts): esbuild bundles them to a temp .mjs first.
// Usage: node bench/pacing.mjs [--events N] [--baseline-events N] [--workers W] [--scale S]
//        (defaults 100 and 10 events, 4 workers, scale 10; needs `npm run build`)
// Exits 1 when a check fails: with pacing, a worker exiting non-zero, an event not completed, bot
// comments not one per event, or any secondary-limit answer; without pacing, none at all.
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
  statusCounts,
  writeRunConfig,
} from './lib.mjs';

/** GitHub's secondary limits on content-creating requests, in real time. */
const GITHUB = {
  minIntervalSeconds: 1,
  windows: [
    { max: 80, seconds: 60 },
    { max: 500, seconds: 3600 },
  ],
};
const CONCURRENCY = 2;

const usage = 'usage: node bench/pacing.mjs [--events N] [--baseline-events N] [--workers W] [--scale S]\n';
const values = benchArgs('pacing', usage, {
  events: { type: 'string', default: '100' },
  'baseline-events': { type: 'string', default: '10' },
  workers: { type: 'string', default: '4' },
  scale: { type: 'string', default: '10' },
});
const runs = [
  { enabled: true, events: integerOption('pacing', 'events', values.events, 1, 10_000) },
  { enabled: false, events: integerOption('pacing', 'baseline-events', values['baseline-events'], 1, 10_000) },
];
const workers = integerOption('pacing', 'workers', values.workers, 1, 32);
const scale = integerOption('pacing', 'scale', values.scale, 1, 1000);

/** The scaled limits: hls's github.pacing and the fake's writeLimits. */
const pacing = {
  min_interval_seconds: GITHUB.minIntervalSeconds / scale,
  windows: GITHUB.windows.map(({ max, seconds }) => ({ max, seconds: seconds / scale })),
};
const writeLimits = {
  minIntervalMs: pacing.min_interval_seconds * 1000,
  windows: pacing.windows.map(({ max, seconds }) => ({ max, ms: seconds * 1000 })),
};

const dir = mkdtempSync(join(tmpdir(), 'hls-bench-pacing-'));
const problems = [];
try {
  const { startFakeAnthropic, startFakeGitHub } = await loadFakes(dir);
  for (const { enabled, events } of runs) {
    const name = enabled ? 'paced' : 'unpaced';
    const anthropic = await startFakeAnthropic({ latencyMs: 0 });
    const github = await startFakeGitHub({ latencyMs: 0, rateLimit: 1_000_000_000, writeLimits });
    try {
      github.repo(REPO).labels.push({ name: 'bug', color: 'd73a4a', description: 'Something is broken' });
      const { db, config } = writeRunConfig(dir, name, {
        anthropic,
        github,
        labels: { allowed: ['bug'] },
        queue: { poll_ms: 50, max_attempts: 20 },
        level: 'warn',
        pacing: { enabled, ...pacing },
      });
      await seedIssues(db, { events, prefix: name, github });
      const exits = await Promise.all(
        Array.from({ length: workers }, (_, w) => runWorker(config, `bench-${name}-${w + 1}`, CONCURRENCY)),
      );

      // No scripted failures here: every 403 is the fake's secondary limit.
      const times = github
        .writes()
        .filter((w) => w.status !== 403)
        .map((w) => w.at);
      const spanMs = times.length > 1 ? times.at(-1) - times[0] : 0;
      const perMinute = (ms) => (ms > 0 ? ((times.length - 1) * 60_000) / (ms * scale) : 0);
      const allowed = perMinute(earliestLastWriteMs(times.length));
      const achieved = perMinute(spanMs);
      const minGapMs = Math.min(...times.slice(1).map((t, i) => t - times[i]));
      const refused = github.secondaryLimitAnswers;
      process.stdout.write(
        `pacing: pacing=${enabled ? 'on' : 'off'} workers=${workers} events=${events} ` +
          `completed=${(await statusCounts(db)).completed} writes=${times.length} ` +
          `allowed_per_min=${allowed.toFixed(0)} achieved_per_min=${achieved.toFixed(0)} ` +
          `ratio=${(allowed > 0 ? achieved / allowed : 0).toFixed(2)}x secondary_limit_answers=${refused} ` +
          `min_gap_ms=${Number.isFinite(minGapMs) ? minGapMs * scale : '-'} scale=${scale}\n`,
      );

      if (enabled) {
        problems.push(...(await runProblems(name, db, exits)));
        const comments = botComments(github);
        if (comments !== events) problems.push(`${name}: ${comments} bot comments for ${events} events`);
        if (refused > 0) problems.push(`${name}: ${refused} secondary-limit answers`);
      } else if (refused === 0) {
        problems.push(`${name}: no secondary-limit answer, the fake's limits were not reached`);
      }
    } finally {
      await Promise.all([anthropic.close(), github.close()]);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
for (const problem of problems) process.stderr.write(`pacing: FAIL ${problem}\n`);
process.exitCode = problems.length > 0 ? 1 : 0;

/** When the last of `n` writes could be sent at the earliest, the first at 0, under `writeLimits` (ms). */
function earliestLastWriteMs(n) {
  const times = [];
  for (let k = 0; k < n; k++) {
    let t = k === 0 ? 0 : times[k - 1] + writeLimits.minIntervalMs;
    for (const { max, ms } of writeLimits.windows) if (k >= max) t = Math.max(t, times[k - max] + ms);
    times.push(t);
  }
  return times.at(-1) ?? 0;
}
