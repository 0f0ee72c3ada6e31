// `npm run demo` as a newcomer runs it: no keys, a fresh state directory, and (where the machine allows
// it) a network namespace holding only loopback, so a request to anything but 127.0.0.1 would fail.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, query, ROOT, tempDir, type RunResult } from './helpers/hls.js';

const DEMO = 'examples/demo/run.sh';

/** `unshare -rn` (a user and network namespace) works here: as root, or with unprivileged user namespaces. */
const CAN_ISOLATE = spawnSync('unshare', ['-rn', 'true']).status === 0;

function runDemo(demoDir: string): Promise<RunResult> {
  const [command, args] = CAN_ISOLATE
    ? ['unshare', ['-rn', 'sh', '-c', `ip link set lo up && exec bash ${DEMO}`]]
    : ['bash', [DEMO]];
  const child = spawn(command, args, { cwd: ROOT, env: cleanEnv({ HLS_DEMO_DIR: demoDir }) });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

interface DemoRecord {
  simulated: { github: string; anthropic: string | null };
  analyses: { event_id: number; event: string; thread_key: string; tokens: number; cost_usd: number }[];
  threads: Record<string, { labels: string[]; comments: { id: number; body: string; user: string }[] }>;
  github_writes: { method: string; path: string; status: number }[];
  skipped: { id: number; event: string; sender_login: string; skip_reason: string }[];
  budget: { daily_usd: number; committed_usd: number };
  report: string;
}

describe('npm run demo', () => {
  let dir: string;
  let result: RunResult;
  let record: DemoRecord;

  beforeAll(async () => {
    if (!CAN_ISOLATE) {
      if (process.env.CI) throw new Error('test/demo.test.ts: unshare -rn fails, and CI must run the demo offline');
      console.warn('\n*** WARNING: test/demo.test.ts runs the demo WITHOUT a network namespace (unshare -rn fails).\n');
    }
    dir = tempDir('hls-demo-');
    result = await runDemo(dir);
    record = JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as DemoRecord;
  }, 120_000);

  it('finishes with exit 0, nothing on stderr, and the sections in order', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const headings = [
      '== SIMULATED APIs, listening on 127.0.0.1 only',
      '== Deliveries, handed to `hls queue` as the relay does',
      '== Analyses: tokens and cost of each model call',
      '== Sticky comment on octo-org/widgets#42',
      '== Labels, within the policy',
      '== A second event on #42',
      '== Skipped before any model call',
      '== Budget: spent today against the daily cap',
      '== hls stats',
      '== hls report',
    ];
    const positions = headings.map((heading) => result.stdout.indexOf(heading));
    expect(
      positions.every((at) => at >= 0),
      `missing heading in:\n${result.stdout}`,
    ).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('announces both simulators, and every URL it prints is loopback', () => {
    expect(result.stdout).toMatch(/SIMULATED GitHub API: http:\/\/127\.0\.0\.1:\d+/);
    expect(result.stdout).toMatch(/SIMULATED Anthropic API: http:\/\/127\.0\.0\.1:\d+/);
    const urls = result.stdout.match(/\b[a-z][a-z0-9+.-]*:\/\/[^\s)>\]]+/gi) ?? [];
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const url of urls) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('shows each analysis with its tokens and cost, and records them in the database', () => {
    expect(result.stdout).toMatch(
      /tokens [\d,]+ \(input [\d,]+, cache write [\d,]+, cache read [\d,]+, output [\d,]+\)\s+cost \$0\.\d{4}/,
    );
    const rows = query<{ webhook_id: number; outcome: string; claude_tokens_used: number; claude_cost_usd: number }>(
      join(dir, 'hls.db'),
      'SELECT webhook_id, outcome, claude_tokens_used, claude_cost_usd FROM claude_analyses ORDER BY id',
    );
    expect(rows.map((row) => row.outcome)).toEqual(['ok', 'ok', 'ok']);
    for (const row of rows) {
      expect(row.claude_tokens_used).toBeGreaterThan(0);
      expect(row.claude_cost_usd).toBeGreaterThan(0);
    }
    expect(record.analyses.map((a) => a.event).sort()).toEqual([
      'issue_comment.created',
      'issues.opened',
      'pull_request.opened',
    ]);
  });

  it('updates the sticky comment of #42 on the second event instead of posting another', () => {
    const thread = record.threads['42']!;
    expect(thread.comments).toHaveLength(1);
    const comment = thread.comments[0]!;
    expect(comment.user).toBe('hls-bot');
    expect(comment.body).toContain('### Triage (updated)');
    expect(comment.body).toContain('<!-- hls:thread octo-org/widgets#42 -->');
    const writes = record.github_writes.filter((w) => /\/issues\/(42\/)?comments/.test(w.path));
    expect(writes).toEqual([
      { method: 'POST', path: '/repos/octo-org/widgets/issues/42/comments', status: 201 },
      { method: 'PATCH', path: `/repos/octo-org/widgets/issues/comments/${comment.id}`, status: 200 },
    ]);
    // Rendered for the terminal: the heading without its hashes, the marker named but not printed raw.
    expect(result.stdout).toContain('│ Triage (updated)');
    expect(result.stdout).toContain('(hidden marker: <!-- hls:thread octo-org/widgets#42 -->)');
  });

  it('applies only the labels the policy allows and the repository has', () => {
    expect(record.threads['42']!.labels).toEqual(['bug', 'priority: high']);
    expect(result.stdout).toContain('ignored: crash (not in labels.allowed)');
    const added = record.github_writes.filter((w) => w.path.endsWith('/labels'));
    expect(added.every((w) => w.method === 'POST' && w.status === 200)).toBe(true);
  });

  it("skips the bot's pull request before any model call", () => {
    const bot = record.skipped.find((s) => s.sender_login === 'dependabot[bot]');
    expect(bot).toMatchObject({ event: 'pull_request.opened', skip_reason: 'sender dependabot[bot] is a bot' });
    expect(result.stdout).toContain('skipped: sender dependabot[bot] is a bot');
    expect(record.analyses.some((a) => a.event_id === bot!.id)).toBe(false);
    expect(record.threads['44']!.comments).toEqual([]);
  });

  it('writes the HTML report and says where', () => {
    expect(result.stdout).toMatch(/written to \S*report\.html/);
    expect(readFileSync(record.report, 'utf8')).toMatch(/^<!doctype html>/i);
  });

  it('shows the budget and hls stats', () => {
    expect(result.stdout).toMatch(/spent \$0\.\d{4} of the \$1\.00 daily cap/);
    expect(record.budget.daily_usd).toBe(1);
    expect(record.budget.committed_usd).toBeCloseTo(
      record.analyses.reduce((sum, a) => sum + a.cost_usd, 0),
      6,
    );
    expect(result.stdout).toMatch(/queue +pending 0 +processing 0 +retry 0 +completed 3 +failed 0 +skipped 2 +total 5/);
  });
});
