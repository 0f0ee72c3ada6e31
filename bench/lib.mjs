// Shared pieces of the worker benches (bench/pipeline.mjs, bench/throughput.mjs): the TypeScript fakes
// bundled by esbuild, one run's config, issues.opened events seeded straight into the database, and
// `hls worker --once` spawned and timed. Needs `npm run build` (it imports dist/).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describeEvent } from '../dist/intake/describe.js';
import { enqueueEvent } from '../dist/store/enqueue.js';
import { openDatabase } from '../dist/store/open.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const HLS = join(ROOT, 'bin', 'hls');
export const REPO = 'octo-org/widgets';
export const BOT = 'hls-bot';

/** Bundles the two TypeScript fakes (node built-ins only) into one ES module in `outDir` and imports it. */
export async function loadFakes(outDir) {
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

/**
 * Writes the config of one run (`<name>.yaml` in `dir`, JSON being YAML) against the fakes, triaging
 * issues in REPO with the given `labels`, `queue`, log `level` and `github.pacing` (default off);
 * `extra` is merged into its top level. Returns the paths of the run's database and config.
 */
export function writeRunConfig(
  dir,
  name,
  { anthropic, github, labels, queue, level, pacing = { enabled: false }, extra = {} },
) {
  const db = join(dir, `${name}.db`);
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    JSON.stringify({
      database: { path: db },
      github: { api_url: github.url, pacing, bot_login: BOT },
      claude: { base_url: anthropic.url, model: 'claude-sonnet-5-5', max_tokens: 1000 },
      repositories: [{ name: REPO, events: ['issues'], labels }],
      filters: { debounce_seconds: 0 },
      features: { dry_run: false },
      queue,
      logging: { format: 'json', level },
      ...extra,
    }),
  );
  return { db, config };
}

/** The webhook payload of issue `number` in REPO opened by alice. */
function issueOpenedPayload(number, title, body) {
  return {
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
}

/** Enqueues one `issues` delivery as the receiver would (no hook id, no signature). */
function enqueueIssuesDelivery(db, deliveryId, payload, now) {
  const raw = Buffer.from(JSON.stringify(payload));
  enqueueEvent(db, {
    deliveryId,
    eventType: 'issues',
    ...describeEvent('issues', payload),
    hookId: null,
    payload: raw,
    payloadSha256: createHash('sha256').update(raw).digest('hex'),
    signature: null,
    now,
  });
}

/**
 * `events` issues.opened deliveries (`bench-<prefix>-<n>`), one issue (thread) each, in one transaction;
 * the issues also in `github` when given. Event n is received at now + n·`stepMs`.
 */
export function seedIssues(dbPath, { events, prefix, github, stepMs = 0 }) {
  const repo = github?.repo(REPO);
  const db = openDatabase(dbPath, { create: true });
  const now = Date.now();
  try {
    db.transaction(() => {
      for (let number = 1; number <= events; number++) {
        const title = `Widget crashes on start (#${number})`;
        const body = 'Steps to reproduce: start the widget. Expected: it runs. Actual: it crashes with a stack trace.';
        repo?.issues.set(number, { number, title, body, labels: [], user: 'alice', comments: [] });
        enqueueIssuesDelivery(
          db,
          `bench-${prefix}-${number}`,
          issueOpenedPayload(number, title, body),
          now + number * stepMs,
        );
      }
    })();
  } finally {
    db.close();
  }
}

/** This process's environment without HLS_* and secrets, plus `config` and test credentials for the fakes. */
function workerEnv(config) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('HLS_') && !/TOKEN|SECRET|API_KEY/.test(key)) env[key] = value;
  }
  return Object.assign(env, { HLS_CONFIG: config, ANTHROPIC_API_KEY: 'sk-ant-test', GITHUB_TOKEN: 'ghp_test' });
}

/**
 * Runs one `hls worker --once` to the end (asynchronously: the fakes live in this process). Resolves to
 * its wall time from spawn to exit (`ms`), exit `code` and the last 4000 characters of its stderr.
 */
export function runWorker(config, id, concurrency) {
  const env = workerEnv(config);
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
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
    child.on('close', (code) => resolvePromise({ ms: performance.now() - started, code, stderrTail }));
  });
}

/**
 * The problems of run `name`: each worker of `exits` (as `runWorker` resolves) that did not exit 0,
 * then each status other than completed among the events in the database at `dbPath`.
 */
export function runProblems(name, dbPath, exits) {
  return [...exits.flatMap((exit) => exitProblems(name, exit)), ...incompleteEvents(name, dbPath)];
}

/** The problem with worker run `exit` of `name`, if it did not exit 0 (as a list of none or one). */
function exitProblems(name, exit) {
  return exit.code === 0 ? [] : [`${name}: worker exited ${exit.code}: ${exit.stderrTail.trim().split('\n').pop()}`];
}

/** One problem per status other than completed among the events in the database at `dbPath`. */
function incompleteEvents(name, dbPath) {
  const problems = [];
  const db = openDatabase(dbPath);
  try {
    for (const { status, n } of db.prepare('SELECT status, count(*) AS n FROM webhook_events GROUP BY status').all()) {
      if (status !== 'completed') problems.push(`${name}: ${n} events ${status}`);
    }
  } finally {
    db.close();
  }
  return problems;
}

/** How many comments BOT has left on the issues of REPO in the fake `github`. */
export function botComments(github) {
  let comments = 0;
  for (const issue of github.repo(REPO).issues.values())
    comments += issue.comments.filter((c) => c.user === BOT).length;
  return comments;
}
