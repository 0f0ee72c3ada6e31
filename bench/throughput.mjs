#!/usr/bin/env node
// End-to-end events/s of W `hls worker --once` processes × C concurrency through the whole triage
// pipeline, against a fake Anthropic API that takes L ms per answer (and a zero-latency fake GitHub,
// Octokit pacing off), paired with the theoretical bound W·C/L: with every slot busy on a model call
// all the time, W·C events finish every L ms. efficiency = measured / bound; what is missing is the
// rest of each event (claim, SQLite, prompt rendering, GitHub calls) plus the workers' start-up, both
// included in the wall time (spawn of the first worker → exit of the last). By default a small matrix
// (W×C = 1×1, 1×4, 2×4) shows how the figure scales with the slots; --workers / --concurrency run one
// pairing. Events are inserted straight into the database before the workers start (the bench measures
// the workers, not `hls queue`); each run has its own database and fresh fakes.
// The fakes are TypeScript (test/fakes/*.ts): esbuild bundles them to a temp .mjs first.
// Usage: node bench/throughput.mjs [--latency MS] [--workers W] [--concurrency C] [--events N]
//        (defaults 200 ms, matrix 1×1 1×4 2×4, 200 events; needs `npm run build`)
// Exits 1 when a check fails: a worker exiting non-zero, an event not completed, or model calls /
// bot comments not one per event.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { describeEvent } from '../dist/intake/describe.js';
import { enqueueEvent } from '../dist/store/enqueue.js';
import { openDatabase } from '../dist/store/open.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HLS = join(ROOT, 'bin', 'hls');
const REPO = 'octo-org/widgets';
const BOT = 'hls-bot';
const MATRIX = [
  { workers: 1, concurrency: 1 },
  { workers: 1, concurrency: 4 },
  { workers: 2, concurrency: 4 },
];

const usage = 'usage: node bench/throughput.mjs [--latency MS] [--workers W] [--concurrency C] [--events N]\n';
let values;
try {
  ({ values } = parseArgs({
    options: {
      latency: { type: 'string', default: '200' },
      workers: { type: 'string' },
      concurrency: { type: 'string' },
      events: { type: 'string', default: '200' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  process.stderr.write(`throughput: ${error.message}\n${usage}`);
  process.exit(64);
}
if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
const latencyMs = integer('latency', values.latency, 1, 60_000);
const events = integer('events', values.events, 1, 100_000);
const single = values.workers !== undefined || values.concurrency !== undefined;
const runs = single
  ? [
      {
        workers: values.workers === undefined ? 2 : integer('workers', values.workers, 1, 32),
        concurrency: values.concurrency === undefined ? 4 : integer('concurrency', values.concurrency, 1, 64),
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
      const { db, config } = setup(`run${index}-${name}`, anthropic, github);
      seed(db, name, github);
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

      for (const exit of exits) {
        if (exit.code !== 0)
          problems.push(`${name}: worker exited ${exit.code}: ${exit.stderrTail.trim().split('\n').pop()}`);
      }
      problems.push(...notCompleted(name, db));
      const calls = anthropic.messageCalls().length;
      if (calls !== events) problems.push(`${name}: ${calls} model calls for ${events} events`);
      let comments = 0;
      for (const issue of github.repo(REPO).issues.values())
        comments += issue.comments.filter((c) => c.user === BOT).length;
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

function integer(name, text, min, max) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`throughput: --${name} must be an integer from ${min} to ${max}, got "${text}"\n`);
    process.exit(64);
  }
  return n;
}

/** Bundles the two TypeScript fakes (node built-ins only) into one ES module and imports it. */
async function loadFakes(outDir) {
  const entry = join(outDir, 'fakes-entry.ts');
  writeFileSync(
    entry,
    `export { startFakeAnthropic } from ${JSON.stringify(join(ROOT, 'test/fakes/anthropic.ts'))};\n` +
      `export { startFakeGitHub } from ${JSON.stringify(join(ROOT, 'test/fakes/github.ts'))};\n`,
  );
  const outfile = join(outDir, 'fakes.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  return import(pathToFileURL(outfile).href);
}

/** A database and config for one run. */
function setup(name, anthropic, github) {
  const db = join(dir, `${name}.db`);
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    JSON.stringify({
      database: { path: db },
      github: { api_url: github.url, throttle: false, bot_login: BOT },
      claude: { base_url: anthropic.url, model: 'claude-sonnet-5-5', max_tokens: 1000 },
      repositories: [{ name: REPO, events: ['issues'], labels: { allowed: ['bug'] } }],
      filters: { debounce_seconds: 0 },
      features: { dry_run: false },
      queue: { poll_ms: 50 },
      logging: { format: 'json', level: 'warn' },
    }),
  );
  return { db, config };
}

/** `events` issues.opened deliveries, one issue (thread) each, in one transaction; the issues also in `github`. */
function seed(dbPath, prefix, github) {
  const repo = github.repo(REPO);
  const db = openDatabase(dbPath);
  const now = Date.now();
  try {
    db.transaction(() => {
      for (let number = 1; number <= events; number++) {
        const title = `Widget crashes on start (#${number})`;
        const body = 'Steps to reproduce: start the widget. Expected: it runs. Actual: it crashes with a stack trace.';
        repo.issues.set(number, { number, title, body, labels: [], user: 'alice', comments: [] });
        const payload = {
          action: 'opened',
          issue: {
            number,
            title,
            body,
            user: { login: 'alice', type: 'User' },
            labels: [],
            html_url: `https://github.com/${REPO}/issues/${number}`,
          },
          repository: { full_name: REPO, name: 'widgets', owner: { login: 'octo-org' } },
          sender: { login: 'alice', type: 'User' },
        };
        const raw = Buffer.from(JSON.stringify(payload));
        enqueueEvent(db, {
          deliveryId: `bench-${prefix}-${number}`,
          eventType: 'issues',
          ...describeEvent('issues', payload),
          hookId: null,
          payload: raw,
          payloadSha256: createHash('sha256').update(raw).digest('hex'),
          signature: null,
          now,
        });
      }
    })();
  } finally {
    db.close();
  }
}

/** Runs one `hls worker --once` to the end (asynchronously: the fakes live in this process). */
function runWorker(config, id, concurrency) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('HLS_') && !/TOKEN|SECRET|API_KEY/.test(key)) env[key] = value;
  }
  Object.assign(env, { HLS_CONFIG: config, ANTHROPIC_API_KEY: 'sk-ant-test', GITHUB_TOKEN: 'ghp_test' });
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [HLS, 'worker', '--once', '--concurrency', String(concurrency), '--id', id], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderrTail = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stderrTail }));
  });
}

/** Every event completed. */
function notCompleted(name, dbPath) {
  const problems = [];
  const db = openDatabase(dbPath, { mustExist: true });
  try {
    for (const { status, n } of db.prepare('SELECT status, count(*) AS n FROM webhook_events GROUP BY status').all()) {
      if (status !== 'completed') problems.push(`${name}: ${n} events ${status}`);
    }
  } finally {
    db.close();
  }
  return problems;
}
