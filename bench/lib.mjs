// Shared pieces of the benches: TypeScript helpers of the test suite (the API fakes, the throwaway
// PostgreSQL cluster) bundled by esbuild, one run's config, issues.opened events queued through the
// store, and `hls worker` spawned and timed. Needs `npm run build` (it imports dist/).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { describeEvent } from '../dist/intake/describe.js';
import { openStore } from '../dist/store/open-store.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const HLS = join(ROOT, 'bin', 'hls');
export const REPO = 'octo-org/widgets';
export const BOT = 'hls-bot';

/** Bundles `exports` (name → TypeScript module under ROOT; node built-ins only) into `<name>.mjs` in `outDir` and imports it. */
async function importTypeScript(outDir, name, exports) {
  const entry = join(outDir, `${name}-entry.ts`);
  writeFileSync(
    entry,
    Object.entries(exports)
      .map(([symbol, module]) => `export { ${symbol} } from ${JSON.stringify(join(ROOT, module))};\n`)
      .join(''),
  );
  const outfile = join(outDir, `${name}.mjs`);
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

/** The loopback fakes of the Anthropic and GitHub APIs (src/simulators/*.ts). */
export function loadFakes(outDir) {
  return importTypeScript(outDir, 'fakes', {
    startFakeAnthropic: 'src/simulators/anthropic.ts',
    startFakeGitHub: 'src/simulators/github.ts',
  });
}

/**
 * A throwaway PostgreSQL cluster (test/helpers/postgres-cluster.ts) with fsync on, as a production
 * server runs: a commit waits for its WAL to reach the disk. Call `stop()` on it when done.
 */
export async function startPostgres(outDir) {
  const { startCluster } = await importTypeScript(outDir, 'postgres-cluster', {
    startCluster: 'test/helpers/postgres-cluster.ts',
  });
  return startCluster({ fsync: true });
}

/** Runs `use(store)` on the store at `target` (a file path or a postgres:// URL), closing it after. */
export async function withStore(target, use, options = {}) {
  const store = await openStore(target, options);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
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

const ISSUE_BODY = 'Steps to reproduce: start the widget. Expected: it runs. Actual: it crashes with a stack trace.';

/** The webhook payload of issue `number` in REPO opened by alice. */
export function issueOpenedPayload(number, title = `Widget crashes on start (#${number})`, body = ISSUE_BODY) {
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

/** What `hls queue` stores for one `issues` delivery of `payload` (no hook id, no signature). */
export function issuesDelivery(deliveryId, payload) {
  const raw = Buffer.from(JSON.stringify(payload));
  return {
    deliveryId,
    eventType: 'issues',
    ...describeEvent('issues', payload),
    hookId: null,
    payload: raw,
    payloadSha256: createHash('sha256').update(raw).digest('hex'),
    signature: null,
  };
}

/**
 * Queues `events` issues.opened deliveries (`bench-<prefix>-<n>`) in the database at `target`, one issue
 * (thread) each, in order; the issues also in `github` when given.
 */
export async function seedIssues(target, { events, prefix, github }) {
  const repo = github?.repo(REPO);
  await withStore(
    target,
    async (store) => {
      for (let number = 1; number <= events; number++) {
        const payload = issueOpenedPayload(number);
        const { title, body } = payload.issue;
        repo?.issues.set(number, { number, title, body, labels: [], user: 'alice', comments: [] });
        await store.queue.enqueue(issuesDelivery(`bench-${prefix}-${number}`, payload));
      }
    },
    { create: true },
  );
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
 * Spawns `hls worker --id <id> ...args` on `config`. Returns the child and `exit`, which resolves to its
 * wall time from spawn to exit (`ms`), exit `code` and the last 4000 characters of its stderr;
 * `onStderr` sees each chunk of stderr as it comes.
 */
export function startWorker(config, id, args, onStderr = () => {}) {
  const started = performance.now();
  const child = spawn(process.execPath, [HLS, 'worker', '--id', id, ...args], {
    cwd: ROOT,
    env: workerEnv(config),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderrTail = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
    onStderr(chunk);
  });
  const exit = new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ ms: performance.now() - started, code, stderrTail }));
  });
  return { child, exit };
}

/** Runs one `hls worker --once` to the end (asynchronously: the fakes live in this process), as `startWorker`'s exit. */
export function runWorker(config, id, concurrency) {
  return startWorker(config, id, ['--once', '--concurrency', String(concurrency)]).exit;
}

/** How many events of the database at `target` are in each status, and in all (`total`). */
export function statusCounts(target) {
  return withStore(target, async (store) => (await store.admin.readStats(store.clock(), 1)).queue);
}

/**
 * The problems of run `name`: each worker of `exits` (as `runWorker` resolves) that did not exit 0,
 * then each status other than completed among the events in the database at `target`.
 */
export async function runProblems(name, target, exits) {
  return [...exits.flatMap((exit) => exitProblems(name, exit)), ...(await incompleteEvents(name, target))];
}

/** The problem with worker run `exit` of `name`, if it did not exit 0 (as a list of none or one). */
function exitProblems(name, exit) {
  return exit.code === 0 ? [] : [`${name}: worker exited ${exit.code}: ${exit.stderrTail.trim().split('\n').pop()}`];
}

/** One problem per status other than completed among the events in the database at `target`. */
async function incompleteEvents(name, target) {
  const { total, completed, ...others } = await statusCounts(target);
  return Object.entries(others)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${name}: ${n} events ${status}`);
}

/** How many comments BOT has left on the issues of REPO in the fake `github`. */
export function botComments(github) {
  let comments = 0;
  for (const issue of github.repo(REPO).issues.values())
    comments += issue.comments.filter((c) => c.user === BOT).length;
  return comments;
}

/** The value at quantile `q` (0–1) of `values`, nearest rank. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

/** Reads an integer option `name` from `text`, or exits 64 naming `bench` when it is not one in [min, max]. */
export function integerOption(bench, name, text, min, max) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`${bench}: --${name} must be an integer from ${min} to ${max}, got "${text}"\n`);
    process.exit(64);
  }
  return n;
}

/** A bench's flags: --help prints the usage and exits 0; a bad flag exits 64 with the usage. */
export function benchArgs(bench, usage, options) {
  try {
    const { values } = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      process.stdout.write(usage);
      process.exit(0);
    }
    return values;
  } catch (error) {
    process.stderr.write(`${bench}: ${error.message}\n${usage}`);
    process.exit(64);
  }
}
