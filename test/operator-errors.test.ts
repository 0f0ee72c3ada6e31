// Operator mistakes and hostile environments, one row each: every command answers with one line and its
// documented exit code (docs/cli.md, "Exit codes"), never a stack trace.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { closedPortUrl } from './helpers/silent.js';
import { cleanEnv, finished, HLS_BIN, ROOT, runHls, startHls, tempDir, type RunResult } from './helpers/hls.js';
import { issuePayload, writeBody } from './helpers/payloads.js';

const REPO = 'octo-org/widgets';

let dir: string;
let db: string;
let unreachableUrl: string;

beforeAll(async () => {
  dir = tempDir('hls-operator-');
  db = join(dir, 'hls.db');
  unreachableUrl = await closedPortUrl();
  const body = writeBody(dir, 'issue.json', issuePayload(7, REPO));
  const queued = await runHls(['queue', '--db', db, '--event', 'issues', '--delivery', 'op-1', '--body-file', body]);
  expect(queued.stdout).toBe(`queued 1 issues.opened ${REPO}\n`);
});

/** Writes a config file into the test's directory and returns its path. */
function config(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A YAML "billion laughs": nine levels of nine aliases each. */
function aliasBomb(): string {
  const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let level = 1; level < 9; level++) {
    lines.push(
      `a${level}: &a${level} [${Array(9)
        .fill(`*a${level - 1}`)
        .join(', ')}]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

type BrokenOutput = 'closed pipe' | 'full device';

/**
 * Runs hls with an output it cannot write: a pipe whose reader has gone before hls writes anything
 * (`hls … | head -c0`), or /dev/full (every write fails with ENOSPC).
 */
async function runWithBrokenOutput(args: string[], output: BrokenOutput): Promise<RunResult> {
  if (output === 'closed pipe') {
    const child = startHls(args);
    child.stdout!.destroy();
    return { ...(await finished(child)), stdout: '' };
  }
  const full = openSync('/dev/full', 'w');
  const child = spawn(process.execPath, [HLS_BIN, ...args], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', full, 'pipe'],
  });
  closeSync(full);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr }));
  });
}

interface Row {
  name: string;
  args: () => string[];
  env?: () => NodeJS.ProcessEnv;
  code: number;
  /** error: one `error:` line on stderr (default); queue: one on stdout; quiet: no output at all. */
  answer?: 'error' | 'queue' | 'quiet';
  /** Where the output goes, when it cannot be written. */
  output?: BrokenOutput;
  /** Part of the one line, where the row is about what it says. */
  says?: RegExp;
}

/** A complete price entry, so that only the key's name can be wrong. */
const PRICE = '{"input": 1, "cache_write_5m": 1, "cache_write_1h": 1, "cache_read": 1, "output": 1}';

/** A config that reaches GitHub at a port nothing listens on, and the token it needs. */
const unreachableGitHub = () =>
  config('github.yaml', JSON.stringify({ github: { api_url: unreachableUrl }, repositories: [{ name: REPO }] }));
const withToken = () => ({ GITHUB_TOKEN: 'ghp_test' });

const queueArgs = () => ['--db', db, '--event', 'issues', '--delivery', 'op-2', '--body-file', join(dir, 'issue.json')];

const ROWS: Row[] = [
  // Durations that overflow or exceed their range: usage error, with the range.
  {
    name: 'stats --since 9999999999w',
    args: () => ['stats', '--db', db, '--since', '9999999999w'],
    code: 64,
    says: /expected 0s to 3650d/,
  },
  {
    name: 'replay --since 9999999999w',
    args: () => ['replay', '--db', db, '--since', '9999999999w', '--dry-run'],
    code: 64,
  },
  {
    name: 'prune --older-than 9999999999w',
    args: () => ['prune', '--db', db, '--older-than', '9999999999w', '--dry-run'],
    code: 64,
  },
  {
    name: 'recover --since 9999999999w',
    args: () => ['recover', '--config', unreachableGitHub(), '--since', '9999999999w'],
    env: withToken,
    code: 64,
  },
  {
    name: 'stats --days 99999999999',
    args: () => ['stats', '--db', db, '--days', '99999999999'],
    code: 64,
    says: /from 1 to 3650/,
  },
  // Timer flags: 0 and 2^31 ms or more would silently become 1 ms timers.
  {
    name: 'worker --lease 0',
    args: () => ['worker', '--db', db, '--once', '--lease', '0'],
    code: 64,
    says: /expected 100ms to 1d/,
  },
  {
    name: 'worker --lease 25d',
    args: () => ['worker', '--db', db, '--once', '--lease', '25d'],
    code: 64,
    says: /expected 100ms to 1d/,
  },
  {
    name: 'worker --grace 30d',
    args: () => ['worker', '--db', db, '--once', '--grace', '30d'],
    code: 64,
    says: /expected 0s to 1d/,
  },
  {
    name: 'worker --poll 3000000000',
    args: () => ['worker', '--db', db, '--once', '--poll', '3000000000'],
    code: 64,
    says: /from 10 to 3600000/,
  },
  {
    name: 'worker --concurrency 100000',
    args: () => ['worker', '--db', db, '--once', '--concurrency', '100000'],
    code: 64,
  },
  {
    name: 'recover --pace-ms 3000000000',
    args: () => ['recover', '--config', unreachableGitHub(), '--pace-ms', '3000000000'],
    env: withToken,
    code: 64,
  },
  // Config values that become timers: configuration error naming the key.
  {
    name: 'config queue.lease_seconds of 2^31 ms',
    args: () => [
      'worker',
      '--db',
      db,
      '--once',
      '--config',
      config('lease.yaml', 'queue:\n  lease_seconds: 2147484\n'),
    ],
    code: 78,
    says: /: queue\.lease_seconds: expected 0\.1 to 86400 seconds$/,
  },
  {
    name: 'config queue.poll_ms of 3e9',
    args: () => ['worker', '--db', db, '--once', '--config', config('poll.yaml', 'queue:\n  poll_ms: 3000000000\n')],
    code: 78,
    says: /: queue\.poll_ms: expected 10 to 3600000 ms$/,
  },
  {
    name: 'config queue.grace_seconds of 1e9',
    args: () => ['worker', '--db', db, '--once', '--config', config('grace.yaml', 'queue:\n  grace_seconds: 1e9\n')],
    code: 78,
    says: /: queue\.grace_seconds: /,
  },
  {
    name: 'config claude.timeout_seconds of 1e10',
    args: () => ['stats', '--db', db, '--config', config('claude.yaml', 'claude:\n  timeout_seconds: 1e10\n')],
    code: 78,
    says: /: claude\.timeout_seconds: expected 1 to 3600 seconds$/,
  },
  {
    name: 'config github.pacing.max_wait_seconds of 0.0001',
    args: () => [
      'stats',
      '--db',
      db,
      '--config',
      config('wait.yaml', 'github:\n  pacing:\n    max_wait_seconds: 0.0001\n'),
    ],
    code: 78,
    says: /: github\.pacing\.max_wait_seconds: /,
  },
  {
    name: 'config claude.spend_limit_recheck_seconds of 1e12',
    args: () => [
      'stats',
      '--db',
      db,
      '--config',
      config('recheck.yaml', 'claude:\n  spend_limit_recheck_seconds: 1e12\n'),
    ],
    code: 78,
    says: /: claude\.spend_limit_recheck_seconds: /,
  },
  // YAML alias bombs and oversized files: configuration error everywhere, the relay's path included.
  {
    name: 'alias bomb: stats',
    args: () => ['stats', '--db', db, '--config', config('bomb.yaml', aliasBomb())],
    code: 78,
    says: /alias/,
  },
  {
    name: 'alias bomb: worker',
    args: () => ['worker', '--db', db, '--once', '--config', config('bomb.yaml', aliasBomb())],
    code: 78,
  },
  {
    name: 'alias bomb: queue',
    args: () => ['queue', ...queueArgs(), '--config', config('bomb.yaml', aliasBomb())],
    code: 78,
    answer: 'queue',
  },
  {
    name: 'alias without its anchor',
    args: () => ['stats', '--db', db, '--config', config('unanchored.yaml', 'queue: *nowhere\n')],
    code: 78,
    says: /Unresolved alias/,
  },
  {
    name: 'config over 1 MiB: stats',
    args: () => ['stats', '--db', db, '--config', config('huge.yaml', `# ${'x'.repeat(1024 * 1024)}\n`)],
    code: 78,
    says: /larger than 1 MiB$/,
  },
  {
    name: 'config over 1 MiB: queue',
    args: () => ['queue', ...queueArgs(), '--config', config('huge.yaml', `# ${'x'.repeat(1024 * 1024)}\n`)],
    code: 78,
    answer: 'queue',
  },
  // Keys that would reach the prototype of the parsed config.
  {
    name: '__proto__ inside queue',
    args: () => [
      'worker',
      '--db',
      db,
      '--once',
      '--config',
      config('proto.yaml', 'queue:\n  __proto__:\n    lease_seconds: 0.001\n'),
    ],
    code: 78,
    says: /: queue\.__proto__: key "__proto__" is not allowed$/,
  },
  {
    name: '__proto__ at the top',
    args: () => ['stats', '--db', db, '--config', config('top-proto.yaml', '__proto__: {}\n')],
    code: 78,
  },
  {
    name: 'constructor as a model name',
    args: () => [
      'stats',
      '--db',
      db,
      '--config',
      config('constructor.yaml', `claude:\n  prices:\n    constructor: ${PRICE}\n`),
    ],
    code: 78,
    says: /: claude\.prices\.constructor: key "constructor" is not allowed$/,
  },
  {
    name: 'prototype as a model name',
    args: () => [
      'stats',
      '--db',
      db,
      '--config',
      config('prototype.yaml', `{"claude": {"prices": {"prototype": ${PRICE}}}}\n`),
    ],
    code: 78,
  },
  // The reader of the output leaves early (`| head`): stop quietly.
  {
    name: 'stats --json into a closed pipe',
    args: () => ['stats', '--db', db, '--json'],
    code: 0,
    answer: 'quiet',
    output: 'closed pipe',
  },
  {
    name: 'show --payload into a closed pipe',
    args: () => ['show', '1', '--db', db, '--payload'],
    code: 0,
    answer: 'quiet',
    output: 'closed pipe',
  },
  {
    name: 'show --json into a closed pipe',
    args: () => ['show', 'op-1', '--db', db, '--json'],
    code: 0,
    answer: 'quiet',
    output: 'closed pipe',
  },
  // An output that cannot be written for another reason (a full disk): one line, 1.
  {
    name: 'show --payload onto a full device',
    args: () => ['show', '1', '--db', db, '--payload'],
    code: 1,
    output: 'full device',
    says: /^error: cannot write the output: ENOSPC$/,
  },
  // GitHub unreachable.
  {
    name: 'render while GitHub refuses connections',
    args: () => ['render', '1', '--db', db, '--config', unreachableGitHub()],
    env: withToken,
    code: 69,
    says: /^error: render: cannot reach GitHub: /,
  },
];

describe('operator errors: one line and the documented exit code', () => {
  it.each(ROWS)('$name → $code', async (row) => {
    const args = row.args();
    const result = row.output ? await runWithBrokenOutput(args, row.output) : await runHls(args, { env: row.env?.() });
    expect(result.stdout + result.stderr).not.toMatch(/^\s+at /m);
    expect(result.code).toBe(row.code);
    const answer = row.answer ?? 'error';
    if (answer === 'quiet') {
      expect(result.stderr).toBe('');
      return;
    }
    const [line, quiet] = answer === 'queue' ? [result.stdout, result.stderr] : [result.stderr, result.stdout];
    expect(quiet).toBe('');
    expect(line).toMatch(/^error: [^\n]+\n$/);
    if (row.says) expect(line.trimEnd()).toMatch(row.says);
  });
});
