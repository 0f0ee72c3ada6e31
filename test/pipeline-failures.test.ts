import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  countRequestTokens,
  DEFAULT_TRIAGE,
  type MessagesRequest,
  type ScriptedReply,
} from '../src/simulators/anthropic.js';
import { finished, eventRow, query, ROOT, runHls, startHls, waitFor, type RunResult } from './helpers/hls.js';
import { issuePayload } from './helpers/payloads.js';
import { queueIssueEvent, REPO, stage, type Stage } from './helpers/pipeline.js';
import { billedAtWorstCase } from './helpers/anthropic-replies.js';

let s: Stage | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  // A test that failed half-way may leave a worker running: stop only the ones this file started.
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await s?.close();
  s = undefined;
});

interface Analysis {
  id: number;
  webhook_id: number;
  outcome: string;
  claude_prompt: string;
  claude_response: string | null;
  analysis_json: string | null;
  github_actions_json: string | null;
  input_tokens: number;
  output_tokens: number;
  cache_write_tokens: number;
  cache_read_tokens: number;
  claude_tokens_used: number;
  claude_cost_usd: number;
  request_id: string | null;
}

interface Reservation {
  event_id: number;
  state: string;
  reserved_usd: number;
  actual_usd: number | null;
}

const analyses = (db: string) => query<Analysis>(db, 'SELECT * FROM claude_analyses ORDER BY id');
const analysesOf = (db: string, id: number) =>
  query<Analysis>(db, 'SELECT * FROM claude_analyses WHERE webhook_id = ? ORDER BY id', id);
const reservations = (db: string) => query<Reservation>(db, 'SELECT * FROM budget_reservations ORDER BY id');

/** The issue object of a webhook payload, with some fields replaced. */
function issue(number: number, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(issuePayload(number, REPO).issue as Record<string, unknown>), ...fields };
}

/** The issue a rendered prompt is about, from the issue's URL (the payload's html_url), -1 if none. */
function issueNumberOf(request: MessagesRequest): number {
  const content = request.messages[0]?.content;
  const text = typeof content === 'string' ? content : JSON.stringify(content);
  const match = new RegExp(`github\\.com/${REPO}/issues/(\\d+)\\b`).exec(text);
  return match ? Number(match[1]) : -1;
}

/** The URL of an issue as the test payloads give it, which every issue prompt shows. */
const issueUrl = (number: number) => `https://github.com/${REPO}/issues/${number}`;

/** A reply generator that answers per issue number, with the default triage for the others. */
function byIssue(replies: Record<number, ScriptedReply>): (request: MessagesRequest) => ScriptedReply {
  return (request) => replies[issueNumberOf(request)] ?? { kind: 'json', value: structuredClone(DEFAULT_TRIAGE) };
}

/** A long-running `hls worker` (no --once), stopped by the test. */
function startWorker(env: NodeJS.ProcessEnv, args: string[] = []) {
  const child = startHls(['worker', ...args], { env });
  children.push(child);
  let output = '';
  const done = finished(child);
  child.stderr!.on('data', (chunk: string) => (output += chunk));
  return {
    child,
    done,
    output: () => output,
    async stop(): Promise<RunResult> {
      child.kill('SIGTERM');
      return done;
    },
  };
}

const messagePosts = (st: Stage) => st.anthropic.messageCalls().length;
const commentPosts = (st: Stage, number: number) =>
  st.github.requests.filter((r) => r.method === 'POST' && r.path === `/repos/${REPO}/issues/${number}/comments`);

function nextUtcMidnight(now = Date.now()): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
}

describe('Anthropic failures', () => {
  it.each([
    { status: 429, type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' },
    { status: 529, type: 'overloaded_error', message: 'Overloaded' },
  ])('a $status $type with retry-after: 0 is retried by the SDK and the event completes', async (error) => {
    s = await stage();
    s.anthropic.enqueue({ kind: 'error', ...error, headers: { 'retry-after': '0' } });
    const id = await queueIssueEvent(s, 5);

    const result = await runHls(['worker', '--once'], { env: s.env });

    expect(result.code).toBe(0);
    expect(eventRow(s.db, id)).toMatchObject({ status: 'completed', attempts: 1, error_class: null });
    expect(messagePosts(s)).toBe(2);
    expect(analyses(s.db)).toHaveLength(1);
    expect(analyses(s.db)[0]).toMatchObject({ webhook_id: id, outcome: 'ok' });
    expect(s.github.repo(REPO).issues.get(5)!.comments).toHaveLength(1);
  });

  it('a refusal (empty or short text) is recorded and paid for, fails the event and writes nothing to GitHub', async () => {
    s = await stage({
      anthropic: {
        respond: byIssue({
          7: { kind: 'text', text: '', stopReason: 'refusal' },
          8: { kind: 'text', text: "I can't help with that.", stopReason: 'refusal' },
        }),
      },
    });
    const ids = [await queueIssueEvent(s, 7), await queueIssueEvent(s, 8)];

    const result = await runHls(['worker', '--once'], { env: s.env });

    expect(result.code).toBe(0);
    expect(messagePosts(s)).toBe(2);
    for (const id of ids) {
      const row = eventRow(s.db, id);
      expect(row).toMatchObject({ status: 'failed', attempts: 1, error_class: 'permanent:handler' });
      expect(row.error_message).toMatch(/refus/);
      const rows = analysesOf(s.db, id);
      expect(rows).toHaveLength(1);
      const analysis = rows[0]!;
      expect(analysis).toMatchObject({ outcome: 'refusal', analysis_json: null, github_actions_json: null });
      expect(analysis.input_tokens + analysis.cache_write_tokens + analysis.cache_read_tokens).toBeGreaterThan(0);
      expect(analysis.output_tokens).toBeGreaterThan(0);
      expect(analysis.claude_tokens_used).toBe(
        analysis.input_tokens + analysis.output_tokens + analysis.cache_write_tokens + analysis.cache_read_tokens,
      );
      expect(analysis.claude_cost_usd).toBeGreaterThan(0);
      expect(analysis.request_id).toMatch(/^req_/);
    }
    expect(analysesOf(s.db, ids[1]!)[0]!.claude_response).toBe("I can't help with that.");
    expect(s.github.writes()).toHaveLength(0);
  });

  it('429s that outlast the SDK retries: the worker retries later, the reservation is released then re-made', async () => {
    s = await stage({ config: { claude: { daily_budget_usd: 5 } } });
    const busy = { kind: 'error', status: 429, type: 'rate_limit_error', message: 'Rate limited' } as const;
    const tooMany = { ...busy, headers: { 'retry-after': '0' } };
    s.anthropic.enqueue(tooMany, tooMany, tooMany); // 1 + the SDK's 2 retries
    const id = await queueIssueEvent(s, 9);

    const first = await runHls(['worker', '--once'], { env: s.env });
    expect(first.code).toBe(0);
    expect(messagePosts(s)).toBe(3);
    expect(eventRow(s.db, id)).toMatchObject({ status: 'retry', attempts: 1, error_class: 'transient:http_429' });
    expect(analyses(s.db)).toHaveLength(0);
    expect(reservations(s.db).map((r) => r.state)).toEqual(['released']);

    await waitFor(() => eventRow(s!.db, id).scheduled_at <= Date.now(), 5000, 'the retry to be due');
    const second = await runHls(['worker', '--once'], { env: s.env });
    expect(second.code).toBe(0);
    expect(messagePosts(s)).toBe(4);
    expect(eventRow(s.db, id)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(analyses(s.db)).toHaveLength(1);
    const held = reservations(s.db);
    expect(held.map((r) => r.state)).toEqual(['released', 'settled']);
    expect(held[1]!.actual_usd).toBeCloseTo(analyses(s.db)[0]!.claude_cost_usd, 12);
  });

  it('unusable answers (not JSON, failing validation, cut at max_tokens) fail their events with the reason', async () => {
    s = await stage({
      anthropic: {
        respond: byIssue({
          11: { kind: 'text', text: 'Sure! This is clearly a bug with high priority.' },
          12: { kind: 'json', value: { ...DEFAULT_TRIAGE, priority: 'urgent' } },
          13: { kind: 'json', value: { ...DEFAULT_TRIAGE, confidence: 2 } },
          // Longer than max_tokens (1000 in the stage config): the fake cuts it, as the model would.
          14: { kind: 'json', value: { ...DEFAULT_TRIAGE, comment: 'word '.repeat(1500) } },
        }),
      },
    });
    const ids = {
      notJson: await queueIssueEvent(s, 11),
      priority: await queueIssueEvent(s, 12),
      confidence: await queueIssueEvent(s, 13),
      cut: await queueIssueEvent(s, 14),
    };

    const result = await runHls(['worker', '--once'], { env: s.env });

    expect(result.code).toBe(0);
    expect(messagePosts(s)).toBe(4); // permanent: no retry of any of them
    const expected = {
      notJson: { outcome: 'invalid', message: /the model did not return JSON/ },
      priority: { outcome: 'invalid', message: /failed validation at priority\b/ },
      confidence: { outcome: 'invalid', message: /failed validation at confidence\b/ },
      cut: { outcome: 'max_tokens', message: /max_tokens \(1000\)/ },
    };
    for (const [name, id] of Object.entries(ids)) {
      const want = expected[name as keyof typeof expected];
      const row = eventRow(s.db, id);
      expect(row, name).toMatchObject({ status: 'failed', attempts: 1, error_class: 'permanent:handler' });
      expect(row.error_message, name).toMatch(want.message);
      const rows = analysesOf(s.db, id);
      expect(rows, name).toHaveLength(1);
      expect(rows[0], name).toMatchObject({ outcome: want.outcome, analysis_json: null });
      expect(rows[0]!.claude_cost_usd, name).toBeGreaterThan(0);
    }
    expect(analysesOf(s.db, ids.notJson)[0]!.claude_response).toBe('Sure! This is clearly a bug with high priority.');
    expect(analysesOf(s.db, ids.cut)[0]!.output_tokens).toBe(1000);
    expect(s.github.writes()).toHaveLength(0);
  });
});

describe('daily budget', () => {
  it('three racing workers together spend no more than the budget; the rest waits for the next UTC day', async () => {
    const maxTokens = 200;
    // Every call is billed exactly its worst-case estimate, so exactly floor(budget / estimate) calls fit,
    // whatever order the workers reserve and settle in.
    const worstCase = billedAtWorstCase(maxTokens);
    // Related-issue search off: the ten identical issues would offer each other, so prompts would differ.
    s = await stage({
      anthropic: { respond: worstCase },
      config: { claude: { max_tokens: maxTokens }, similar: { enabled: false } },
    });

    // Measure the prompt first: without a key the rendered prompt is recorded and nothing is sent.
    const probe = await queueIssueEvent(s, 100);
    await runHls(['worker', '--once'], { env: { ...s.env, ANTHROPIC_API_KEY: '' } });
    const prompt = analysesOf(s.db, probe)[0]!.claude_prompt;
    const system = readFileSync(join(ROOT, 'prompts/system.md'), 'utf8').trim();
    const promptTokens = countRequestTokens({
      system: [{ type: 'text', text: system }],
      messages: [{ role: 'user', content: prompt }],
    });
    // claude-sonnet-5-5: dearest input price 4 (1 h cache write), output 10, per million tokens.
    const estimate = (promptTokens * 4 + maxTokens * 10) / 1e6;
    const budget = 3.5 * estimate;
    const config = JSON.parse(readFileSync(s.config, 'utf8'));
    config.claude.daily_budget_usd = budget;
    writeFileSync(s.config, JSON.stringify(config));

    // Issue numbers of the same width as the probe's: every prompt has the same length.
    const ids: number[] = [];
    for (let n = 101; n <= 110; n++) ids.push(await queueIssueEvent(s, n));

    const workers = ['w1', 'w2', 'w3'].map((id) => {
      const child = startHls(['worker', '--once', '--id', id], { env: s!.env });
      children.push(child);
      return finished(child);
    });
    const results = await Promise.all(workers);
    for (const result of results) expect(result.code, result.stderr.slice(-2000)).toBe(0);

    const rows = ids.map((id) => eventRow(s!.db, id));
    const completed = rows.filter((row) => row.status === 'completed');
    const waiting = rows.filter((row) => row.status !== 'completed');
    const sent = analyses(s.db).filter((row) => row.outcome !== 'not_sent');
    // On failure, say what each event did and what the workers warned about.
    const why = JSON.stringify({
      events: rows.map(({ id, status, attempts, wait_reason, error_class, error_message }) => ({
        id,
        status,
        attempts,
        wait_reason,
        error_class,
        error_message,
      })),
      reservations: reservations(s.db),
      warnings: results.flatMap((r) => r.stderr.split('\n').filter((line) => /"level":"(warn|error)"/.test(line))),
    });
    expect(completed, why).toHaveLength(3);
    expect(messagePosts(s), why).toBe(3);
    expect(sent, why).toHaveLength(3);
    expect(sent.map((row) => row.webhook_id).sort()).toEqual(completed.map((row) => row.id).sort());
    expect(sent.reduce((sum, row) => sum + row.claude_cost_usd, 0)).toBeLessThanOrEqual(budget);
    for (const row of sent) expect(row.claude_cost_usd).toBeCloseTo(estimate, 12);

    const held = reservations(s.db);
    expect(
      held.filter((r) => r.state === 'reserved'),
      why,
    ).toHaveLength(0);
    const settled = held.filter((r) => r.state === 'settled');
    expect(settled).toHaveLength(3);
    expect(settled.reduce((sum, r) => sum + r.actual_usd!, 0)).toBeLessThanOrEqual(budget);

    const today = new Date().toISOString().slice(0, 10);
    for (const row of waiting) {
      expect(row, why).toMatchObject({
        status: 'pending',
        attempts: 0,
        wait_reason: `daily budget exhausted for ${today}`,
        scheduled_at: nextUtcMidnight(),
      });
    }
    expect(rows.filter((row) => row.status === 'failed')).toHaveLength(0);
    // Every event asked for its estimate; only the ones that fit were sent.
    const counted = s.anthropic.requests.filter((r) => r.path === '/v1/messages/count_tokens');
    expect(counted, why).toHaveLength(10);
    expect(counted.every((r) => countRequestTokens(r.body) === promptTokens)).toBe(true);
  });
});

describe('checkpoint: a paid analysis is never bought twice', () => {
  it('a GitHub 502 after the analysis was recorded is retried from the recorded analysis', async () => {
    s = await stage();
    // A new comment is not re-sent by plugin-retry (after a 502 it may exist all the same): the worker
    // puts the event back, and its second attempt looks for the comment before posting.
    s.github.failNext({ method: 'POST', path: /\/issues\/21\/comments$/ }, { status: 502 });
    const id = await queueIssueEvent(s, 21);

    const first = await runHls(['worker', '--once'], { env: s.env });
    expect(first.code).toBe(0);
    expect(eventRow(s.db, id)).toMatchObject({ status: 'retry', attempts: 1, error_class: 'transient:http_502' });
    expect(analyses(s.db)).toHaveLength(1);
    expect(analyses(s.db)[0]).toMatchObject({ outcome: 'ok' });
    // The labels went on before the comment failed: on record at once, the comment still to do.
    expect(JSON.parse(analyses(s.db)[0]!.github_actions_json!)).toMatchObject({
      labels: { action: 'added' },
      comment: { action: 'pending' },
    });
    expect(commentPosts(s, 21).map((r) => r.status)).toEqual([502]);

    await waitFor(() => eventRow(s!.db, id).scheduled_at <= Date.now(), 5000, 'the retry to be due');
    const second = await runHls(['worker', '--once'], { env: s.env });
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('resuming from the recorded analysis');

    expect(eventRow(s.db, id)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(messagePosts(s)).toBe(1);
    const rows = analyses(s.db);
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]!.github_actions_json!).comment.action).toBe('created');
    expect(s.github.repo(REPO).issues.get(21)!.comments).toHaveLength(1);
    expect(commentPosts(s, 21).map((r) => r.status)).toEqual([502, 201]);
  });

  it('a worker killed (SIGKILL) after the analysis was recorded: the next worker finishes with no model call', async () => {
    s = await stage();
    // Two failures of the labels (applied before the comment) keep the first worker inside Octokit's
    // retry wait (the third try would come 4 s later).
    s.github.failNext({ method: 'POST', path: /\/issues\/22\/labels$/ }, { status: 502 }, 2);
    const id = await queueIssueEvent(s, 22);

    const child = startHls(['worker', '--once', '--lease', '1s'], { env: s.env });
    children.push(child);
    const done = finished(child);
    const labelPosts = () =>
      s!.github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/issues/22/labels'));
    // The analysis comes first: on a loaded CI machine that alone took over 10 s.
    await waitFor(() => labelPosts().filter((r) => r.status === 502).length === 2, 40_000, 'two 502s');
    expect(analyses(s.db)).toHaveLength(1);
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    expect(eventRow(s.db, id).status).toBe('processing');

    await waitFor(() => eventRow(s!.db, id).locked_until! < Date.now() - 50, 5000, 'the lease to expire');
    const second = await runHls(['worker', '--once'], { env: s.env });
    expect(second.code).toBe(0);

    expect(eventRow(s.db, id)).toMatchObject({ status: 'completed', attempts: 2, error_class: 'lease_expired' });
    expect(messagePosts(s)).toBe(1);
    expect(analyses(s.db)).toHaveLength(1);
    expect(s.github.repo(REPO).issues.get(22)!.comments).toHaveLength(1);
  });
});

describe('without an API key', () => {
  it('records the rendered prompt, sends nothing and counts no analysis', async () => {
    s = await stage();
    const id = await queueIssueEvent(s, 31);

    const result = await runHls(['worker', '--once'], { env: { ...s.env, ANTHROPIC_API_KEY: '' } });

    expect(result.code).toBe(0);
    expect(eventRow(s.db, id)).toMatchObject({
      status: 'skipped',
      skip_reason: 'no ANTHROPIC_API_KEY: prompt recorded, nothing sent',
    });
    const [analysis, ...more] = analyses(s.db);
    expect(more).toHaveLength(0);
    expect(analysis).toMatchObject({
      webhook_id: id,
      outcome: 'not_sent',
      claude_response: null,
      claude_tokens_used: 0,
      claude_cost_usd: 0,
    });
    expect(analysis!.claude_prompt).toContain(issueUrl(31));
    expect(analysis!.claude_prompt).toContain('Steps to reproduce: start the widget.');
    expect(s.anthropic.requests).toHaveLength(0);
    expect(s.github.writes()).toHaveLength(0);

    const stats = await runHls(['stats', '--json'], { env: s.env });
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout).today).toMatchObject({ analyses: 0, cost_usd: 0 });
  });
});

describe('filters', () => {
  it('skips opted-out, short, unconfigured and immaterially edited issues without a model call', async () => {
    s = await stage();
    const body = issue(0).body as string;
    const ids = {
      optOut: await queueIssueEvent(s, 41, {
        issue: issue(41, { labels: [{ name: 'bug' }, { name: 'hls:ignore' }] }),
      }),
      short: await queueIssueEvent(s, 42, { issue: issue(42, { body: 'It crashes.' }) }),
      otherRepo: await queueIssueEvent(s, 43, {
        repository: { full_name: 'other-org/gadgets', name: 'gadgets', owner: { login: 'other-org' } },
      }),
      smallEdit: await queueIssueEvent(s, 44, {
        action: 'edited',
        changes: { body: { from: body.replace('crashes.', 'crashes!') } },
      }),
      bigEdit: await queueIssueEvent(s, 45, {
        action: 'edited',
        changes: { body: { from: 'It does not work for me, please fix.' } },
      }),
    };

    const result = await runHls(['worker', '--once'], { env: s.env });
    expect(result.code).toBe(0);

    expect(eventRow(s.db, ids.optOut)).toMatchObject({
      status: 'skipped',
      skip_reason: 'opted out with label hls:ignore',
    });
    expect(eventRow(s.db, ids.short)).toMatchObject({
      status: 'skipped',
      skip_reason: 'body shorter than 20 characters',
    });
    expect(eventRow(s.db, ids.otherRepo)).toMatchObject({
      status: 'skipped',
      skip_reason: 'repository other-org/gadgets is not configured',
    });
    expect(eventRow(s.db, ids.smallEdit)).toMatchObject({
      status: 'skipped',
      skip_reason: 'edit did not change the body materially',
    });
    expect(eventRow(s.db, ids.bigEdit)).toMatchObject({ status: 'completed', action: 'edited' });

    const calls = s.anthropic.messageCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body.messages[0].content).toContain(issueUrl(45));
    expect(analyses(s.db).map((row) => row.webhook_id)).toEqual([ids.bigEdit]);
    expect(s.github.writes().every((w) => w.path.includes('/issues/45/'))).toBe(true);
  });
});

describe('coalescing', () => {
  it('of two analysed events of one thread within the debounce window, only the newer is analysed', async () => {
    // 6 s: the second event must arrive within the first one's window, even on a loaded 2-core CI machine.
    s = await stage({ config: { filters: { debounce_seconds: 6 } } });
    const worker = startWorker(s.env);
    await waitFor(() => worker.output().includes('worker started'), 30_000, 'the worker to start');

    const opened = await queueIssueEvent(s, 51);
    const first = await waitFor(
      () => {
        const row = eventRow(s!.db, opened);
        return row.status === 'pending' && row.wait_reason !== null ? row : undefined;
      },
      5000,
      'the opened event to wait',
    );
    expect(first!.wait_reason).toMatch(/^debounce/);
    expect(first!.attempts).toBe(0);

    const reopened = await queueIssueEvent(s, 51, { action: 'reopened' });
    const second = await waitFor(
      () => {
        const row = eventRow(s!.db, reopened);
        // Looked at: the handler has decided (a claim still in progress is not a decision yet).
        return row.status !== 'processing' && (row.wait_reason !== null || row.status !== 'pending') ? row : undefined;
      },
      5000,
      'the reopened event to be looked at',
    );
    expect(second).toMatchObject({ status: 'pending', attempts: 0 });
    expect(second!.wait_reason).toMatch(/^debounce/);
    expect(messagePosts(s)).toBe(0);

    await waitFor(() => eventRow(s!.db, reopened).status === 'completed', 20_000, 'the reopened event to complete');
    expect((await worker.stop()).code).toBe(0);

    expect(eventRow(s.db, opened)).toMatchObject({
      status: 'skipped',
      skip_reason: `superseded by event ${reopened} of the same thread`,
      wait_reason: null,
    });
    expect(eventRow(s.db, reopened)).toMatchObject({ status: 'completed', wait_reason: null });
    expect(messagePosts(s)).toBe(1);
    expect(analyses(s.db).map((row) => row.webhook_id)).toEqual([reopened]);
    expect(s.github.repo(REPO).issues.get(51)!.comments).toHaveLength(1);
  });
  it('a newer event that will itself be skipped (a typo fix) does not supersede the opened issue', async () => {
    s = await stage({ config: { filters: { debounce_seconds: 2 } } });
    const body = issue(0).body as string;
    const opened = await queueIssueEvent(s, 52);
    const edited = await queueIssueEvent(s, 52, {
      action: 'edited',
      changes: { body: { from: body.replace('crashes.', 'crashes!') } },
    });

    const worker = startHls(['worker'], { env: s.env });
    const done = finished(worker);
    await waitFor(() => eventRow(s!.db, opened).status === 'completed', 20_000, 'the opened issue to be analysed');
    // The edit waits for its thread: it is claimed once the opened issue is done, then decided.
    await waitFor(
      () => !['pending', 'processing'].includes(eventRow(s!.db, edited).status),
      20_000,
      'the edit to be decided',
    );
    worker.kill('SIGTERM');
    expect((await done).code).toBe(0);
    expect(eventRow(s.db, edited)).toMatchObject({
      status: 'skipped',
      skip_reason: 'edit did not change the body materially',
    });
    expect(eventRow(s.db, opened).skip_reason).toBeNull();
    expect(messagePosts(s)).toBe(1);
  });
});

describe('GitHub secondary rate limit (403, retry-after: 1)', () => {
  it('on the comment, with write pacing off: waited out and retried within the same attempt; one comment', async () => {
    s = await stage();
    s.github.failNext(
      { method: 'POST', path: /\/issues\/61\/comments$/ },
      { status: 403, headers: { 'retry-after': '1' } },
    );
    const id = await queueIssueEvent(s, 61);

    const worker = startWorker(s.env);
    await waitFor(() => eventRow(s!.db, id).status === 'completed', 15_000, 'the event to complete');
    expect((await worker.stop()).code).toBe(0);

    expect(eventRow(s.db, id)).toMatchObject({ attempts: 1, error_class: null });
    const posts = commentPosts(s, 61);
    expect(posts.map((r) => r.status)).toEqual([403, 201]);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(1000); // retry-after honoured
    expect(messagePosts(s)).toBe(1);
    expect(s.github.repo(REPO).issues.get(61)!.comments).toHaveLength(1);
  });

  it('on the labels, with write pacing on: waited out and retried within the same attempt', async () => {
    s = await stage({ config: { github: { pacing: { enabled: true } } } });
    s.github.failNext(
      { method: 'POST', path: /\/issues\/62\/labels$/ },
      { status: 403, headers: { 'retry-after': '1' } },
    );
    const id = await queueIssueEvent(s, 62);

    const result = await runHls(['worker', '--once'], { env: s.env });
    expect(result.code).toBe(0);

    expect(eventRow(s.db, id)).toMatchObject({ status: 'completed', attempts: 1, error_class: null });
    const labelPosts = s.github.requests.filter(
      (r) => r.method === 'POST' && r.path === `/repos/${REPO}/issues/62/labels`,
    );
    expect(labelPosts.map((r) => r.status)).toEqual([403, 200]);
    expect(labelPosts[1]!.at - labelPosts[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(messagePosts(s)).toBe(1);
    const created = s.github.repo(REPO).issues.get(62)!;
    expect(created.comments).toHaveLength(1);
    expect(created.labels.sort()).toEqual(['bug', 'difficulty: moderate']);
  });
});
