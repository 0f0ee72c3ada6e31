#!/usr/bin/env node
// Deliveries per second and latency through the real relay (adnanh/webhook 2.8.0, examples/webhook/hooks.json)
// into `hls queue`, against, paired in the same run, a baseline: the same relay process and hooks file with a
// second hook identical to `github` except that its command is a trivial shell script (print one line,
// exit 0). The difference is what `hls queue` costs over the relay's own work (HMAC check, temp files, fork).
// Each flow sends N distinct signed issues.opened deliveries plus R redeliveries (same GUID and body,
// sent after the original was answered) at concurrency C. Rounds alternate which flow goes first.
// Usage: node bench/relay-load.mjs [--deliveries N] [--redeliveries R] [--concurrency C] [--rounds K]
// A measurement, not a test: it prints figures; it exits 1 only when it cannot run (no relay, no build).
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { statusCounts } from './lib.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HLS_BIN = join(ROOT, 'bin', 'hls');
const REPOSITORY = 'octo-org/widgets';
const WARMUP = 20;

const { values } = parseArgs({
  options: {
    deliveries: { type: 'string', default: '1000' },
    redeliveries: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: node bench/relay-load.mjs [--deliveries N] [--redeliveries R] [--concurrency C] [--rounds K]\n',
  );
  process.exit(0);
}
const deliveries = positive('deliveries');
const redeliveries = Number(values.redeliveries);
const concurrency = positive('concurrency');
const rounds = positive('rounds');
if (!Number.isInteger(redeliveries) || redeliveries < 0 || redeliveries > deliveries) {
  fail(`--redeliveries must be an integer from 0 to --deliveries, got "${values.redeliveries}"`, 64);
}
if (deliveries % rounds !== 0 || redeliveries % rounds !== 0) {
  fail('--deliveries and --redeliveries must be multiples of --rounds', 64);
}

function positive(name) {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1) fail(`--${name} must be a positive integer, got "${values[name]}"`, 64);
  return value;
}

function fail(message, code = 1) {
  process.stderr.write(`relay-load: ${message}\n`);
  process.exit(code);
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

const sign = (secret, body) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** A small issues.opened payload, different for each index. */
function issueBody(index) {
  const number = index + 1;
  return Buffer.from(
    JSON.stringify({
      action: 'opened',
      issue: {
        id: 2_900_000_000 + number,
        number,
        title: `Widget #${number} crashes on start`,
        body: `Steps to reproduce (${number}): start the widget. Expected: it runs. Actual: it crashes ✗ 日本語.`,
        user: { login: 'alice', type: 'User' },
        labels: [],
        state: 'open',
        html_url: `https://github.com/${REPOSITORY}/issues/${number}`,
        created_at: '2026-11-23T12:00:00Z',
      },
      repository: { full_name: REPOSITORY, name: 'widgets', owner: { login: 'octo-org' } },
      sender: { login: 'alice', type: 'User' },
    }),
  );
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

/**
 * Sends `count` distinct deliveries and `again` redeliveries (each sent after its original was answered,
 * interleaved ten deliveries later) to `url` at the given concurrency.
 */
async function flow(url, secret, count, again, offset) {
  const step = again > 0 ? Math.floor(count / again) : Infinity;
  const order = [];
  for (let index = 0; index < count; index++) {
    order.push({ index, redelivery: false });
    const original = index - 9;
    if (original >= 0 && original % step === 0 && original / step < again)
      order.push({ index: original, redelivery: true });
  }
  for (let original = Math.max(0, count - 9); original < count; original++) {
    if (original % step === 0 && original / step < again) order.push({ index: original, redelivery: true });
  }
  const guids = Array.from({ length: count }, () => randomUUID());
  const bodies = Array.from({ length: count }, (_, index) => issueBody(offset + index));
  const originals = new Map();
  const latencies = [];
  const outcome = { queued: 0, duplicate: 0, other: 0, non2xx: 0, errors: 0, sample: '' };
  let next = 0;
  const send = async (index) => {
    const body = bodies[index];
    const started = performance.now();
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'GitHub-Hookshot/bench',
        'X-GitHub-Event': 'issues',
        'X-GitHub-Delivery': guids[index],
        'X-GitHub-Hook-ID': '424242',
        'X-Hub-Signature-256': sign(secret, body),
      },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    latencies.push(performance.now() - started);
    if (response.status < 200 || response.status >= 300) {
      outcome.non2xx++;
      outcome.sample ||= `${response.status} ${text.trim()}`;
    } else if (text.startsWith('queued ') || text.startsWith('baseline ')) outcome.queued++;
    else if (text.startsWith('duplicate ')) outcome.duplicate++;
    else outcome.other++;
  };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < order.length) {
        const item = order[next++];
        try {
          if (item.redelivery) await originals.get(item.index);
          const request = send(item.index);
          if (!item.redelivery) originals.set(item.index, request);
          await request;
        } catch (error) {
          outcome.errors++;
          outcome.sample ||= error.message;
        }
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, requests: order.length, latencies, outcome };
}

const relayBinary = onPath('webhook');
if (!relayBinary) fail('the `webhook` relay (adnanh/webhook 2.8.0, Debian package `webhook`) is not on PATH');
if (!existsSync(join(ROOT, 'dist/bundle/queue.cjs'))) fail('dist/bundle/queue.cjs is missing: run `npm run build`');

const dir = mkdtempSync(join(tmpdir(), 'hls-bench-relay-'));
const dbPath = join(dir, 'hls.db');
const secret = `bench-${randomUUID()}`;
let relay;
let relayLog = '';

try {
  // The operator's hooks file, plus a "baseline" hook that differs only in its command.
  const baselineScript = join(dir, 'baseline.sh');
  writeFileSync(baselineScript, '#!/bin/sh\nprintf \'baseline %s\\n\' "$HLS_GH_DELIVERY"\n');
  chmodSync(baselineScript, 0o755);
  // hooks.json is a Go template (the secret comes from {{ getenv … }}), not JSON: edit it as text.
  const text = readFileSync(join(ROOT, 'examples/webhook/hooks.json'), 'utf8')
    .replaceAll('/opt/hls', ROOT)
    .replaceAll('/var/lib/hls', dir);
  const open = text.indexOf('[');
  const close = text.lastIndexOf(']');
  const hook = text.slice(open + 1, close).trim();
  const command = `"execute-command": "${join(ROOT, 'examples/webhook/handle-github-event.sh')}"`;
  if (!hook.includes('"id": "github"') || !hook.includes(command)) {
    throw new Error('examples/webhook/hooks.json no longer has the expected "id" and "execute-command" lines');
  }
  const baselineHook = hook
    .replace('"id": "github"', '"id": "baseline"')
    .replace(command, `"execute-command": ${JSON.stringify(baselineScript)}`);
  const hooks = `[\n  ${hook},\n  ${baselineHook}\n]\n`;
  const hooksPath = join(dir, 'hooks.json');
  writeFileSync(hooksPath, hooks);

  const port = await freePort();
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('HLS_') && !/TOKEN|SECRET|API_KEY/.test(key)) env[key] = value;
  }
  relay = spawn(
    relayBinary,
    ['-hooks', hooksPath, '-template', '-verbose', '-ip', '127.0.0.1', '-port', String(port)],
    {
      cwd: dir,
      env: {
        ...env,
        HLS_GITHUB_WEBHOOK_SECRET: secret,
        HLS_DB: dbPath,
        HLS_BIN,
        PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const keep = (chunk) => {
    relayLog = (relayLog + chunk).slice(-20_000);
  };
  relay.stdout.setEncoding('utf8').on('data', keep);
  relay.stderr.setEncoding('utf8').on('data', keep);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (relay.exitCode !== null) throw new Error(`webhook exited during start-up:\n${relayLog}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`webhook did not listen within 10 s:\n${relayLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  // The log may be trimmed later; at start-up it still holds the load messages.
  if (!relayLog.includes('loaded: github') || !relayLog.includes('loaded: baseline')) {
    throw new Error(`webhook did not load both hooks:\n${relayLog}`);
  }

  const urls = { hls: `http://127.0.0.1:${port}/hooks/github`, baseline: `http://127.0.0.1:${port}/hooks/baseline` };
  // Warm-up (creates the database file too); not counted.
  await flow(urls.baseline, secret, WARMUP, 0, 1_000_000);
  await flow(urls.hls, secret, WARMUP, 0, 1_000_000);
  const rowsBefore = await countRows();

  const totals = {
    hls: {
      seconds: 0,
      requests: 0,
      latencies: [],
      outcome: { queued: 0, duplicate: 0, other: 0, non2xx: 0, errors: 0 },
    },
    baseline: {
      seconds: 0,
      requests: 0,
      latencies: [],
      outcome: { queued: 0, duplicate: 0, other: 0, non2xx: 0, errors: 0 },
    },
  };
  const samples = [];
  for (let round = 0; round < rounds; round++) {
    const names = round % 2 === 0 ? ['baseline', 'hls'] : ['hls', 'baseline'];
    for (const name of names) {
      const result = await flow(urls[name], secret, deliveries / rounds, redeliveries / rounds, round * deliveries);
      const total = totals[name];
      total.seconds += result.seconds;
      total.requests += result.requests;
      total.latencies.push(...result.latencies);
      for (const key of Object.keys(total.outcome)) total.outcome[key] += result.outcome[key];
      if (result.outcome.sample) samples.push(`${name}: ${result.outcome.sample}`);
    }
  }
  const figures = (name) => {
    const total = totals[name];
    const sorted = total.latencies.sort((a, b) => a - b);
    return {
      per_s: (total.requests / total.seconds).toFixed(1),
      p50_ms: percentile(sorted, 50).toFixed(0),
      p95_ms: percentile(sorted, 95).toFixed(0),
      p99_ms: percentile(sorted, 99).toFixed(0),
    };
  };
  const hls = figures('hls');
  const baseline = figures('baseline');
  process.stdout.write(
    `relay-load: deliveries=${deliveries} redeliveries=${redeliveries} concurrency=${concurrency} ` +
      `hls_per_s=${hls.per_s} hls_p50_ms=${hls.p50_ms} hls_p95_ms=${hls.p95_ms} hls_p99_ms=${hls.p99_ms} ` +
      `baseline_per_s=${baseline.per_s} baseline_p50_ms=${baseline.p50_ms} baseline_p95_ms=${baseline.p95_ms} ` +
      `baseline_p99_ms=${baseline.p99_ms}\n`,
  );
  const o = totals.hls.outcome;
  const b = totals.baseline.outcome;
  process.stdout.write(
    `relay-load: hls_rows=${(await countRows()) - rowsBefore} hls_queued=${o.queued} hls_duplicate=${o.duplicate} ` +
      `hls_non_2xx=${o.non2xx + o.other} hls_errors=${o.errors} baseline_non_2xx=${b.non2xx + b.other} ` +
      `baseline_errors=${b.errors} hls_seconds=${totals.hls.seconds.toFixed(1)} ` +
      `baseline_seconds=${totals.baseline.seconds.toFixed(1)} rounds=${rounds} ` +
      `loadavg=${loadavg()[0].toFixed(2)} node=${process.version}\n`,
  );
  for (const sample of samples.slice(0, 3)) process.stdout.write(`relay-load: first problem: ${sample}\n`);
} catch (error) {
  process.stderr.write(`relay-load: ${error.message}\n`);
  process.exitCode = 1;
} finally {
  if (relay && relay.exitCode === null && relay.signalCode === null) {
    const gone = new Promise((r) => relay.once('exit', r));
    relay.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    if (relay.exitCode === null && relay.signalCode === null) relay.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Events stored in the bench's database (none before `hls queue` has created it). */
async function countRows() {
  return existsSync(dbPath) ? (await statusCounts(dbPath)).total : 0;
}
