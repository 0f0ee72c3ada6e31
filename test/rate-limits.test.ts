import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { storedText } from './helpers/backend.js';
import { finished, eventRow, query, runHls, startHls, waitFor, type RunResult } from './helpers/hls.js';
import { SPEND_LIMIT_REPLY } from '../src/simulators/anthropic.js';
import { queueIssueEvent, stage, type Stage } from './helpers/pipeline.js';

let s: Stage | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await s?.close();
  s = undefined;
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const GITHUB_KEY = sha256('ghp_test');
const ANTHROPIC_KEY = sha256('sk-ant-test');

interface Reading {
  api: string;
  key_sha256: string;
  resource: string;
  limit_value: number | null;
  remaining: number | null;
  reset_at: number | null;
}
interface Pause {
  scope: string;
  until_at: number;
  reason: string;
  started_at: number;
  hits: number;
}

const readings = (db: string, api: string) =>
  query<Reading>(db, 'SELECT * FROM rate_limit_history WHERE api = ? ORDER BY id', api);
const pauses = (db: string) => query<Pause>(db, 'SELECT * FROM api_pauses ORDER BY scope');

function startWorker(env: NodeJS.ProcessEnv, args: string[] = []): { stop(): Promise<RunResult> } {
  const child = startHls(['worker', ...args], { env });
  children.push(child);
  const done = finished(child);
  return {
    stop: async () => {
      child.kill('SIGTERM');
      return done;
    },
  };
}

describe('rate-limit state shared through the database', () => {
  it('records every answer’s rate-limit headers and duration per key hash, never the key', async () => {
    s = await stage();
    const id = await queueIssueEvent(s, 1);

    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);

    expect(eventRow(s.db, id).status).toBe('completed');
    const github = readings(s.db, 'github');
    expect(github).toHaveLength(s.github.requests.length);
    expect(new Set(github.map((r) => `${r.key_sha256} ${r.resource} ${r.limit_value}`))).toEqual(
      new Set([`${GITHUB_KEY} core 5000`]),
    );
    // The fake counts each request against the limit: the last answer had that many left.
    expect(github.at(-1)!.remaining).toBe(5000 - s.github.requests.length);
    const anthropic = readings(s.db, 'anthropic');
    expect(anthropic.length).toBeGreaterThan(0);
    expect(new Set(anthropic.map((r) => r.key_sha256))).toEqual(new Set([ANTHROPIC_KEY]));
    expect(new Set(anthropic.map((r) => r.resource))).toContain('requests');
    expect(anthropic.every((r) => r.reset_at! > Date.now() - 120_000)).toBe(true);

    const requests = query<{ metric: string; count: number }>(
      s.db,
      `SELECT metric, sum(count) AS count FROM metric_totals GROUP BY metric ORDER BY metric`,
    );
    expect(requests).toEqual(
      expect.arrayContaining([
        { metric: 'github_request_duration_seconds', count: s.github.requests.length },
        { metric: 'anthropic_request_duration_seconds', count: s.anthropic.requests.length },
      ]),
    );
    const stored = storedText(s.db);
    expect(stored).not.toContain('ghp_test');
    expect(stored).not.toContain('sk-ant-test');
  });

  it('stops asking GitHub when the remaining quota falls under the reserve and defers the event to the reset', async () => {
    s = await stage({ github: { rateLimit: 6 }, config: { github: { pacing: { reserve: 4, max_wait_seconds: 5 } } } });
    const id = await queueIssueEvent(s, 2);

    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);

    // Three requests leave 3 (< 4): nothing more is sent until the reset, an hour away.
    expect(s.github.requests).toHaveLength(3);
    const row = eventRow(s.db, id);
    expect(row).toMatchObject({ status: 'pending', attempts: 0, error_class: null });
    expect(row.wait_reason).toMatch(/GitHub rate limit: 3 requests left \(reserve 4\), waiting for the reset/);
    const reset = readings(s.db, 'github').at(-1)!.reset_at!;
    expect(row.scheduled_at).toBeGreaterThanOrEqual(reset);
    expect(row.scheduled_at).toBeGreaterThan(Date.now() + 3_000_000);
  });
});

describe('GitHub rate-limit waits longer than max_wait_seconds', () => {
  it('a secondary-limit answer asking for more puts the event back without counting an attempt', async () => {
    s = await stage({ config: { github: { pacing: { max_wait_seconds: 2 } } } });
    s.github.failNext(
      { method: 'POST', path: /\/issues\/30\/comments$/ },
      { status: 403, headers: { 'retry-after': '30' } },
    );
    const id = await queueIssueEvent(s, 30);
    const started = Date.now();

    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);

    const row = eventRow(s.db, id);
    expect(row).toMatchObject({ status: 'pending', attempts: 0, error_class: null });
    const reason = 'GitHub secondary rate limit on POST /repos/{owner}/{repo}/issues/{id}/comments';
    expect(row.wait_reason).toBe(reason);
    expect(row.scheduled_at).toBeGreaterThanOrEqual(started + 30_000);
    expect(row.scheduled_at).toBeLessThan(Date.now() + 31_000);
    // One comment POST, answered 403: nothing was sent again, and the labels waited too.
    const writes = s.github.writes();
    expect(writes.map((w) => `${w.method} ${w.path} ${w.status}`)).toEqual([
      expect.stringMatching(/^POST \/repos\/octo-org\/widgets\/issues\/30\/(comments|labels) /),
      ...(writes.length === 2 ? [expect.stringMatching(/ 403$/)] : []),
    ]);
    expect(writes.filter((w) => w.path.endsWith('/comments'))).toHaveLength(1);
    expect(pauses(s.db)).toEqual([expect.objectContaining({ scope: `github:${GITHUB_KEY}`, reason, hits: 1 })]);
    // The analysis is kept: when the event comes back it resumes at the GitHub step, without a new call.
    expect(s.anthropic.messageCalls()).toHaveLength(1);
    expect(query(s.db, 'SELECT count(*) AS n FROM claude_analyses WHERE webhook_id = ?', id)).toEqual([{ n: 1 }]);
  });
});

describe('Anthropic pauses shared by every worker process', () => {
  it('a 429 with retry-after holds the model calls of all processes; work without a model call goes on', async () => {
    s = await stage();
    s.anthropic.enqueue({
      kind: 'error',
      status: 429,
      type: 'rate_limit_error',
      message: 'Number of request tokens has exceeded your per-minute rate limit',
      // Long enough that two `hls queue` runs and the skip fit in it on a loaded 2-core CI machine.
      headers: { 'retry-after': '8' },
    });
    const first = await queueIssueEvent(s, 10);
    const workers = [startWorker(s.env), startWorker(s.env)];
    const limited = await waitFor(() => s!.anthropic.messageCalls()[0], 15_000, 'the first model call');
    const second = await queueIssueEvent(s, 11);
    const noModel = await queueIssueEvent(s, 12, { sender: { login: 'dependabot[bot]', type: 'Bot' } }); // skipped

    await waitFor(() => eventRow(s!.db, second).status === 'completed', 30_000, 'the second event');
    await waitFor(() => eventRow(s!.db, first).status === 'completed', 30_000, 'the first event');
    for (const worker of workers) expect((await worker.stop()).code).toBe(0);

    const pauseEnd = limited.at + 8000;
    const later = s.anthropic.requests.slice(s.anthropic.requests.indexOf(limited) + 1);
    expect(later.length).toBeGreaterThanOrEqual(2);
    // 30 ms: the fake stamps a request when its body has arrived, a moment after the sender's clock.
    for (const request of later) expect(request.at).toBeGreaterThanOrEqual(pauseEnd - 30);
    expect(eventRow(s.db, noModel).status).toBe('skipped');
    expect(eventRow(s.db, noModel).completed_at!).toBeLessThan(pauseEnd);
    expect(pauses(s.db)).toEqual([
      expect.objectContaining({ scope: `anthropic:${ANTHROPIC_KEY}`, reason: 'Anthropic rate limited (429)', hits: 1 }),
    ]);
    expect(eventRow(s.db, first).attempts).toBe(1);
  });

  it('a spend-limit 429 stops model calls without retrying; the events wait and go on after the recheck', async () => {
    // 6 s: the checks below run while the stop lasts, even on a loaded 2-core CI machine.
    s = await stage({ config: { claude: { spend_limit_recheck_seconds: 6, daily_budget_usd: 5 } } });
    s.anthropic.enqueue(SPEND_LIMIT_REPLY);
    const ids = [await queueIssueEvent(s, 20), await queueIssueEvent(s, 21), await queueIssueEvent(s, 22)];

    expect((await runHls(['worker', '--once', '--concurrency', '1'], { env: s.env })).code).toBe(0);

    expect(s.anthropic.messageCalls()).toHaveLength(1); // neither the SDK nor the worker retried
    for (const id of ids) {
      const row = eventRow(s.db, id);
      expect(row).toMatchObject({ status: 'pending', attempts: 0, error_class: null });
      expect(row.wait_reason).toMatch(/^Anthropic spend limit reached: model calls stopped until then$/);
    }
    const [pause] = pauses(s.db);
    expect(pause).toMatchObject({ scope: `anthropic-spend:${ANTHROPIC_KEY}`, hits: 1 });
    // The stop lasts the 6 s recheck from the refused call (measured from the fake's record of it: the
    // store stamps started_at when it writes the row, on PostgreSQL with the server's clock, a little later).
    const [refused] = s.anthropic.messageCalls();
    expect(pause!.until_at - refused!.at).toBeGreaterThanOrEqual(6000);
    expect(pause!.until_at - refused!.at).toBeLessThan(8000);
    expect(pause!.started_at).toBeGreaterThanOrEqual(refused!.at);
    const held = query<{ state: string }>(s.db, 'SELECT state FROM budget_reservations');
    expect(held).toEqual([{ state: 'released' }]);
    expect(s.github.writes()).toHaveLength(0);
    const check = await runHls(['stats', '--check'], { env: s.env });
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(/^HLS CRITICAL - Anthropic spend limit reached; model calls stopped until \S+/);

    // The events come back spread over a tenth of the pause after it ends.
    const due = Math.max(...ids.map((id) => eventRow(s!.db, id).scheduled_at));
    expect(due).toBeGreaterThanOrEqual(pause!.until_at);
    expect(due).toBeLessThanOrEqual(pause!.until_at + 600);
    await new Promise((resolve) => setTimeout(resolve, due - Date.now() + 50));
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);
    for (const id of ids) expect(eventRow(s.db, id)).toMatchObject({ status: 'completed', attempts: 1 });
    expect(s.anthropic.messageCalls()).toHaveLength(4);
  });
});
