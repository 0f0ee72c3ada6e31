#!/usr/bin/env node
// Events per second of one `hls worker --once` process through the whole triage pipeline (claim →
// filter → context → prompt → Claude → ledger → sticky comment + labels → finish) against zero-latency
// loopback fakes of Anthropic and GitHub, with Octokit's pacing off (github.throttle: false). Paired
// in the same run with a baseline: the same number of events through a worker whose `issues` handler
// is a no-op module, so the difference is the pipeline's own cost per event. Both times are wall
// times of the worker process from spawn to exit (start-up included, amortised over the events;
// startup_ms is the same worker on an empty queue).
// Events are inserted straight into the database (the bench measures the worker, not `hls queue`).
// The fakes are TypeScript (test/fakes/*.ts): esbuild bundles them to a temp .mjs first.
// Usage: node bench/pipeline.mjs [--events N] [--concurrency C]   (defaults 300 and 4; needs `npm run build`)
// Exits 1 when a check fails: an event not completed, or model calls / comments not one per event.
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

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '4' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write('usage: node bench/pipeline.mjs [--events N] [--concurrency C]\n');
  process.exit(0);
}
const events = Number(values.events);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(events) || events < 1) {
  process.stderr.write(`pipeline: --events must be a positive integer, got "${values.events}"\n`);
  process.exit(64);
}
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
  process.stderr.write(`pipeline: --concurrency must be an integer from 1 to 64, got "${values.concurrency}"\n`);
  process.exit(64);
}

const dir = mkdtempSync(join(tmpdir(), 'hls-bench-pipeline-'));
let fakes = [];
try {
  const { startFakeAnthropic, startFakeGitHub } = await loadFakes(dir);
  const anthropic = await startFakeAnthropic({ latencyMs: 0 });
  const github = await startFakeGitHub({ latencyMs: 0 });
  fakes = [anthropic, github];
  github
    .repo(REPO)
    .labels.push(
      { name: 'bug', color: 'd73a4a', description: 'Something is broken' },
      { name: 'difficulty: moderate', color: 'fbca04', description: null },
    );

  const noopHandler = join(dir, 'noop-handler.mjs');
  writeFileSync(noopHandler, 'export default async function handle() {}\n');

  // Start-up alone (an empty queue), then the baseline, then the pipeline.
  const empty = setup('empty', { handlers: { issues: noopHandler } });
  const startupRun = await runWorker(empty);
  const noop = setup('noop', { handlers: { issues: noopHandler } });
  seed(noop.db, 'noop');
  const noopRun = await runWorker(noop);

  const triage = setup('triage', {});
  seed(triage.db, 'triage', github);
  const callsBefore = anthropic.messageCalls().length;
  const triageRun = await runWorker(triage);

  const modelCalls = anthropic.messageCalls().length - callsBefore;
  let comments = 0;
  for (const issue of github.repo(REPO).issues.values())
    comments += issue.comments.filter((c) => c.user === BOT).length;

  const ledger = ledgerTotals(triage.db);
  const perSecond = (run) => (events / (run.ms / 1000)).toFixed(1);
  const perEvent = (run) => (run.ms / events).toFixed(2);
  process.stdout.write(
    `pipeline: events=${events} concurrency=${concurrency} ` +
      `triage_events_per_s=${perSecond(triageRun)} noop_events_per_s=${perSecond(noopRun)} ` +
      `per_event_ms_triage=${perEvent(triageRun)} per_event_ms_noop=${perEvent(noopRun)} ` +
      `model_calls=${modelCalls} comments=${comments} startup_ms=${startupRun.ms.toFixed(0)}\n`,
  );
  process.stdout.write(
    `pipeline ledger: model=claude-sonnet-5-5 input_tokens=${ledger.input} output_tokens=${ledger.output} ` +
      `cache_write_tokens=${ledger.write} cache_read_tokens=${ledger.read} recorded_usd=${ledger.recorded.toFixed(6)} ` +
      `at_published_prices_usd=${ledger.expected.toFixed(6)} (2/2.50/0.20/10 per Mtok input/5m write/read/output)\n`,
  );

  const problems = [
    ...check('empty', empty.db, startupRun),
    ...check('noop', noop.db, noopRun),
    ...check('triage', triage.db, triageRun),
    ...(modelCalls === events ? [] : [`triage: ${modelCalls} model calls for ${events} events`]),
    ...(comments === events ? [] : [`triage: ${comments} bot comments for ${events} events`]),
  ];
  for (const problem of problems) process.stderr.write(`pipeline: FAIL ${problem}\n`);
  process.exitCode = problems.length > 0 ? 1 : 0;
} finally {
  await Promise.all(fakes.map((fake) => fake.close()));
  rmSync(dir, { recursive: true, force: true });
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

/** A database and config for one worker run; `extra` is merged into the config's top level. */
function setup(name, extra) {
  const db = join(dir, `${name}.db`);
  const config = join(dir, `${name}.yaml`);
  const [anthropic, github] = fakes;
  writeFileSync(
    config,
    JSON.stringify({
      database: { path: db },
      github: { api_url: github.url, throttle: false, bot_login: BOT },
      claude: { base_url: anthropic.url, model: 'claude-sonnet-5-5', max_tokens: 1000 },
      repositories: [
        {
          name: REPO,
          events: ['issues'],
          labels: { allowed: ['bug'], difficulty: { moderate: 'difficulty: moderate' } },
        },
      ],
      filters: { debounce_seconds: 0 },
      features: { dry_run: false },
      queue: { poll_ms: 50, concurrency },
      logging: { format: 'json', level: 'info' },
      ...extra,
    }),
  );
  return { name, db, config };
}

/** `events` issues.opened deliveries, one issue (thread) each, in one transaction; the issues also in `github`. */
function seed(dbPath, prefix, github) {
  const repo = github?.repo(REPO);
  const db = openDatabase(dbPath);
  const now = Date.now();
  try {
    db.transaction(() => {
      for (let i = 1; i <= events; i++) {
        const number = i;
        const title = `Widget crashes on start (#${number})`;
        const body = 'Steps to reproduce: start the widget. Expected: it runs. Actual: it crashes with a stack trace.';
        repo?.issues.set(number, { number, title, body, labels: [], user: 'alice', comments: [] });
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
          deliveryId: `bench-${prefix}-${i}`,
          eventType: 'issues',
          ...describeEvent('issues', payload),
          hookId: null,
          payload: raw,
          payloadSha256: createHash('sha256').update(raw).digest('hex'),
          signature: null,
          now: now + i,
        });
      }
    })();
  } finally {
    db.close();
  }
}

/** Runs `hls worker --once` to the end (asynchronously: the fakes live in this process). */
function runWorker(run) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('HLS_') && !/TOKEN|SECRET|API_KEY/.test(key)) env[key] = value;
  }
  Object.assign(env, { HLS_CONFIG: run.config, ANTHROPIC_API_KEY: 'sk-ant-test', GITHUB_TOKEN: 'ghp_test' });
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [HLS, 'worker', '--once', '--concurrency', String(concurrency), '--id', `bench-${run.name}`],
      { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderrTail = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ ms: performance.now() - started, code, stderrTail }));
  });
}

/** What the ledger recorded, and the same tokens priced by hand at the published Sonnet prices. */
function ledgerTotals(dbPath) {
  const db = openDatabase(dbPath, { mustExist: true });
  try {
    const row = db
      .prepare(
        `SELECT sum(input_tokens) AS input, sum(output_tokens) AS output, sum(cache_write_tokens) AS write,
                sum(cache_read_tokens) AS read, sum(claude_cost_usd) AS recorded FROM claude_analyses`,
      )
      .get();
    return { ...row, expected: (row.input * 2 + row.write * 2.5 + row.read * 0.2 + row.output * 10) / 1e6 };
  } finally {
    db.close();
  }
}

/** Every event completed and the worker exited 0. */
function check(name, dbPath, run) {
  const problems = [];
  if (run.code !== 0) problems.push(`${name}: worker exited ${run.code}: ${run.stderrTail.trim().split('\n').pop()}`);
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
