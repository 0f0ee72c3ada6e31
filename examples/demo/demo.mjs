// The offline demo (npm run demo): the whole loop of hls against simulated GitHub and Claude APIs on
// 127.0.0.1. Deliveries reach `hls queue` as the relay hands them over (body file, headers file,
// signature), `hls worker --once` processes them, and the demo shows what happened on "GitHub".
// With ANTHROPIC_API_KEY set the real model answers (GitHub stays simulated). State goes to ./.demo
// (HLS_DEMO_DIR overrides it); the demo's record of what it saw is written to <dir>/demo.json.
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { startFakeAnthropic } from '../../dist/simulators/anthropic.js';
import { startFakeGitHub } from '../../dist/simulators/github.js';
import { bold, dim, heading, indent, renderMarkdown, say, yellow } from './terminal.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const HERE = join(ROOT, 'examples/demo');
const HLS = join(ROOT, 'bin/hls');
const REPOSITORY = JSON.parse(readFileSync(join(HERE, 'repository.json'), 'utf8'));
const REPLIES = JSON.parse(readFileSync(join(HERE, 'replies.json'), 'utf8'));

const demoDir = resolve(process.env.HLS_DEMO_DIR || join(ROOT, '.demo'));
const database = join(demoDir, 'hls.db');
const workerLog = join(demoDir, 'worker.log');
const realClaudeKey = process.env.ANTHROPIC_API_KEY || undefined;
// Throwaway credentials of this run: the simulators accept them and nothing else.
const githubToken = `ghp_demo${randomBytes(12).toString('hex')}`;
const webhookSecret = randomBytes(16).toString('hex');

/** The environment of every hls process: nothing inherited that could point it elsewhere. */
function hlsEnv(simulators, extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('HLS_') && !key.startsWith('GITHUB_') && !key.startsWith('ANTHROPIC_')) env[key] = value;
  }
  return {
    ...env,
    HLS_DB: database,
    HLS_CONFIG: join(HERE, 'settings.yaml'),
    HLS_GITHUB_WEBHOOK_SECRET: webhookSecret,
    GITHUB_API_URL: simulators.github.url,
    GITHUB_TOKEN: githubToken,
    ...(simulators.anthropic
      ? { ANTHROPIC_BASE_URL: simulators.anthropic.url, ANTHROPIC_API_KEY: simulators.anthropic.key }
      : { ANTHROPIC_API_KEY: realClaudeKey, ANTHROPIC_BASE_URL: process.env.ANTHROPIC_BASE_URL }),
    ...extra,
  };
}

/** Runs bin/hls (no shell); resolves with its exit code and output, rejects when it cannot start. */
function hls(args, env) {
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, [HLS, ...args], { env, cwd: ROOT, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolvePromise({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

async function hlsOrFail(args, env) {
  const result = await hls(args, env);
  if (result.code !== 0) {
    throw new Error(`hls ${args.join(' ')} exited ${result.code}: ${(result.stderr || result.stdout).trim()}`);
  }
  return result;
}

// ---------- the simulators ----------

async function startSimulators() {
  const github = await startFakeGitHub({ token: githubToken, login: 'hls-bot' });
  const repo = github.repo(REPOSITORY.name);
  repo.labels.push(...REPOSITORY.labels);
  for (const issue of REPOSITORY.issues) repo.issues.set(issue.number, { labels: [], comments: [], ...issue });
  for (const pull of REPOSITORY.pulls) repo.pulls.set(pull.number, pull);
  if (realClaudeKey) return { github, anthropic: undefined };
  const key = `sk-ant-demo-${randomBytes(12).toString('hex')}`;
  const anthropic = await startFakeAnthropic({ apiKey: key, respond: scriptedTriage });
  return { github, anthropic: Object.assign(anthropic, { key }) };
}

/** The simulated model's answer: the reply of replies.json whose `when` line is in the prompt. */
function scriptedTriage(request) {
  const prompt = request.messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));
  const reply = REPLIES.replies.find((candidate) => prompt.some((text) => text.includes(candidate.when)));
  return { kind: 'json', value: reply ? reply.triage : REPLIES.otherwise };
}

// ---------- the relay's side ----------

let deliveries = 0;

/**
 * Hands one payload to `hls queue` as adnanh/webhook does (examples/webhook/hooks.json): the raw body
 * and all headers in files, event, delivery and signature in the environment; signed as GitHub signs.
 */
async function deliver(simulators, event, payloadFile, delivery = randomUUID()) {
  const body = readFileSync(join(HERE, 'payloads', payloadFile));
  const signature = `sha256=${createHmac('sha256', webhookSecret).update(body).digest('hex')}`;
  const dir = join(demoDir, 'deliveries');
  mkdirSync(dir, { recursive: true });
  const n = ++deliveries;
  const bodyFile = join(dir, `${n}-body.json`);
  const headersFile = join(dir, `${n}-headers.json`);
  writeFileSync(bodyFile, body);
  writeFileSync(
    headersFile,
    JSON.stringify({
      'Content-Type': 'application/json',
      'User-Agent': 'GitHub-Hookshot/demo',
      'X-Github-Delivery': delivery,
      'X-Github-Event': event,
      'X-Github-Hook-Id': '123456',
      'X-Hub-Signature-256': signature,
    }),
  );
  const result = await hlsOrFail(
    ['queue'],
    hlsEnv(simulators, {
      HLS_BODY_FILE: bodyFile,
      HLS_HEADERS_FILE: headersFile,
      HLS_GH_EVENT: event,
      HLS_GH_DELIVERY: delivery,
      HLS_GH_SIGNATURE: signature,
    }),
  );
  say(`   ${event.padEnd(13)} ${payloadFile.padEnd(32)} → ${result.stdout.trim()}`);
  return { delivery, line: result.stdout.trim() };
}

async function workerPass(simulators) {
  const result = await hlsOrFail(['worker', '--once', '--id', 'demo'], hlsEnv(simulators));
  writeFileSync(workerLog, result.stderr, { flag: 'a' });
  const processed = /"msg":"worker stopped".*?"processed":(\d+)/.exec(result.stderr)?.[1] ?? '?';
  say(
    `   hls worker --once: processed ${processed} ${processed === '1' ? 'event' : 'events'} ${dim(`(log: ${shown(workerLog)})`)}`,
  );
  for (const e of unfinishedEvents()) {
    say(yellow(`   event ${e.id} ${e.event} is ${e.status}: ${e.error_message ?? e.wait_reason ?? 'not processed'}`));
  }
}

// ---------- what the database and the simulators say ----------

function readRows(sql, ...params) {
  const db = new Database(database, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params);
  } finally {
    db.close();
  }
}

function analyses() {
  return readRows(`
    SELECT a.id, a.webhook_id AS event_id, e.event_type || coalesce('.' || e.action, '') AS event, e.thread_key,
           a.model, a.outcome, a.input_tokens, a.output_tokens, a.cache_write_tokens, a.cache_read_tokens,
           a.claude_tokens_used AS tokens, a.claude_cost_usd AS cost_usd, a.processing_time_ms,
           a.claude_response, a.github_actions_json
      FROM claude_analyses a JOIN webhook_events e ON e.id = a.webhook_id
     ORDER BY a.id`).map((row) => ({
    ...row,
    triage: parseJson(row.claude_response),
    actions: parseJson(row.github_actions_json),
  }));
}

function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** Events a worker pass left neither completed nor skipped, with the reason. */
function unfinishedEvents() {
  return readRows(
    `SELECT id, event_type || coalesce('.' || action, '') AS event, status, error_message, wait_reason
       FROM webhook_events WHERE status NOT IN ('completed', 'skipped') ORDER BY id`,
  );
}

function skippedEvents() {
  return readRows(
    `SELECT id, event_type || coalesce('.' || action, '') AS event, thread_key, sender_login, skip_reason
       FROM webhook_events WHERE status = 'skipped' ORDER BY id`,
  );
}

function threadOnGitHub(simulators, number) {
  const issue = simulators.github.repo(REPOSITORY.name).issues.get(number);
  return {
    number,
    labels: [...issue.labels],
    comments: issue.comments.map((c) => ({ ...c })),
  };
}

function githubWrites(simulators) {
  return simulators.github.writes().map((r) => ({ method: r.method, path: r.path, status: r.status }));
}

const usd = (value) => `$${value.toFixed(4)}`;
const count = (value) => value.toLocaleString('en-US');

function analysisLine(a) {
  const tokens =
    `tokens ${count(a.tokens)} (input ${count(a.input_tokens)}, cache write ${count(a.cache_write_tokens)}, ` +
    `cache read ${count(a.cache_read_tokens)}, output ${count(a.output_tokens)})`;
  const head = `   event ${a.event_id}  ${a.event.padEnd(22)} ${(a.thread_key ?? '-').padEnd(20)} ${a.model}  ${a.outcome}`;
  const lines = [head, `      ${tokens}  cost ${usd(a.cost_usd)}`];
  if (a.triage) {
    lines.push(
      `      → priority ${a.triage.priority}, difficulty ${a.triage.difficulty}, component "${a.triage.component}", ` +
        `confidence ${a.triage.confidence}, labels suggested [${a.triage.labels.join(', ')}]`,
    );
  }
  return lines.join('\n');
}

function labelLines(a) {
  const policy = a.actions?.labels;
  if (!policy) return `   event ${a.event_id} ${a.thread_key}: no GitHub actions recorded`;
  const ignored = policy.ignored.map((name) => (name.includes('(') ? name : `${name} (not in labels.allowed)`));
  return [
    `   event ${a.event_id} ${a.thread_key}: ${policy.action}${policy.added.length ? ` [${policy.added.join(', ')}]` : ''}`,
    ...(ignored.length ? [`      ignored: ${ignored.join(', ')}`] : []),
  ].join('\n');
}

function showComment(thread) {
  for (const comment of thread.comments) {
    say(`   ${REPOSITORY.name}#${thread.number}, comment ${comment.id} by ${comment.user}:`);
    say(indent(renderMarkdown(comment.body), '   │ '));
  }
}

// ---------- the story ----------

async function main() {
  rmSync(demoDir, { recursive: true, force: true });
  mkdirSync(demoDir, { recursive: true });
  const simulators = await startSimulators();
  try {
    heading('SIMULATED APIs, listening on 127.0.0.1 only');
    say(`   SIMULATED GitHub API: ${simulators.github.url}  (repository ${REPOSITORY.name}, in memory)`);
    if (simulators.anthropic) {
      say(
        `   SIMULATED Anthropic API: ${simulators.anthropic.url}  (scripted triage replies from examples/demo/replies.json)`,
      );
    } else {
      say(
        yellow(
          '   Claude: the REAL Anthropic API (ANTHROPIC_API_KEY is set); calls cost money, within a $1 daily budget',
        ),
      );
    }

    heading('Deliveries, handed to `hls queue` as the relay does (body + headers files, HMAC-signed)');
    await deliver(simulators, 'ping', 'ping.json');
    const first = await deliver(simulators, 'issues', 'issue-opened.json');
    await deliver(simulators, 'pull_request', 'pull-request-opened.json');
    await deliver(simulators, 'pull_request', 'bot-pull-request-opened.json');
    say('   a redelivery of the same GUID is stored once:');
    await deliver(simulators, 'issues', 'issue-opened.json', first.delivery);
    await workerPass(simulators);

    const firstAnalyses = analyses();
    heading('Analyses: tokens and cost of each model call');
    for (const a of firstAnalyses) say(analysisLine(a));

    heading(`Sticky comment on ${REPOSITORY.name}#42, as it appears on GitHub`);
    showComment(threadOnGitHub(simulators, 42));

    heading('Labels, within the policy (labels.allowed and the labels the repository has)');
    for (const a of firstAnalyses) say(labelLines(a));
    for (const number of [42, 43]) {
      say(`   now on ${REPOSITORY.name}#${number}: [${threadOnGitHub(simulators, number).labels.join(', ')}]`);
    }

    heading(`A second event on #42 (alice mentions @hls-bot): the same comment is UPDATED`);
    await deliver(simulators, 'issue_comment', 'issue-comment-mention.json');
    await workerPass(simulators);
    const second = analyses().slice(firstAnalyses.length);
    for (const a of second) {
      say(analysisLine(a));
      say(labelLines(a));
    }
    const updated = threadOnGitHub(simulators, 42);
    const thread42 = githubWrites(simulators).filter((w) => /\/issues\/(42\/)?comments/.test(w.path));
    say(
      `   simulator's record of #42: ${updated.comments.length} ${updated.comments.length === 1 ? 'comment' : 'comments'}, written by:`,
    );
    for (const w of thread42) say(`      ${w.method} ${w.path} → ${w.status}`);
    showComment(updated);

    heading("Skipped before any model call: the bot's pull request (and GitHub's ping)");
    const skipped = skippedEvents();
    for (const s of skipped)
      say(`   event ${s.id}  ${s.event.padEnd(22)} ${(s.sender_login ?? '-').padEnd(16)} skipped: ${s.skip_reason}`);

    heading('Budget: spent today against the daily cap');
    const stats = JSON.parse((await hlsOrFail(['stats', '--json'], hlsEnv(simulators))).stdout);
    say(`   ${budgetLine(stats.budget)}`);

    heading('hls stats');
    process.stdout.write(indent((await hlsOrFail(['stats'], hlsEnv(simulators))).stdout.trimEnd()) + '\n');

    heading('hls report: the same numbers as one HTML page');
    const report = join(demoDir, 'report.html');
    await hlsOrFail(['report', '--days', '7', '--output', report], hlsEnv(simulators));
    say(`   written to ${shown(report)} (open it in a browser; no network needed)`);

    const record = {
      simulated: { github: simulators.github.url, anthropic: simulators.anthropic?.url ?? null },
      analyses: analyses().map(({ claude_response, github_actions_json, ...rest }) => rest),
      threads: { 42: updated, 43: threadOnGitHub(simulators, 43), 44: threadOnGitHub(simulators, 44) },
      github_writes: githubWrites(simulators),
      skipped,
      budget: stats.budget ?? null,
      report,
    };
    writeFileSync(join(demoDir, 'demo.json'), JSON.stringify(record, null, 2) + '\n');
    const unfinished = unfinishedEvents();
    if (unfinished.length > 0) {
      const hint = realClaudeKey ? 'check ANTHROPIC_API_KEY and the network' : 'see the worker log';
      console.error(`demo incomplete: ${unfinished.length} events did not finish (${hint}: ${shown(workerLog)})`);
      process.exitCode = 1;
    }
    say();
    say(
      bold(
        `Database: ${shown(database)}   demo record: ${shown(join(demoDir, 'demo.json'))}   worker log: ${shown(workerLog)}`,
      ),
    );
    say(`Try: ./bin/hls show 6 --db ${shown(database)}    ./bin/hls stats --json --db ${shown(database)}`);
  } finally {
    await Promise.all([simulators.github.close(), simulators.anthropic?.close()]);
  }
}

function budgetLine(budget) {
  if (!budget) return 'no daily budget configured';
  const share = budget.daily_usd > 0 ? ` (${((100 * budget.committed_usd) / budget.daily_usd).toFixed(1)}%)` : '';
  return (
    `spent ${usd(budget.committed_usd)} of the $${budget.daily_usd.toFixed(2)} daily cap${share}, ` +
    `${usd(budget.remaining_usd)} left; ${budget.deferred_events} events deferred to tomorrow` +
    (budget.exhausted ? '; EXHAUSTED' : '')
  );
}

/** A path as the user would type it from the current directory. */
function shown(path) {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

main().catch((error) => {
  console.error(`demo failed: ${error.message}`);
  process.exitCode = 1;
});
