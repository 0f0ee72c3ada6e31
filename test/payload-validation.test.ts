// Payload fields that build GitHub paths or prompts are validated or capped before use: through the real
// `hls queue` and `hls worker --once` against the loopback fakes, asserting the requests the fakes got.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capPayload, capText, MAX_ITEMS, NAME_CHARS, TEXT_CHARS } from '../src/pipeline/cap.js';
import { storeCreated } from './helpers/backend.js';
import { eventRow, ROOT, runHls } from './helpers/hls.js';
import { issuePayload, writeBody } from './helpers/payloads.js';
import { REPO, stage, TRIAGE, type Stage } from './helpers/pipeline.js';

let s: Stage | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

let deliveries = 0;

/** Queues a raw body through `hls queue` and returns its answer. */
async function queueRaw(st: Stage, event: string, body: string | Buffer) {
  const delivery = `payload-${process.pid}-${++deliveries}`;
  const file = writeBody(st.dir, `${delivery}.json`, body);
  return runHls(['queue', '--event', event, '--delivery', delivery, '--body-file', file], { env: st.env });
}

async function queued(st: Stage, event: string, body: string | Buffer): Promise<number> {
  const result = await queueRaw(st, event, body);
  const match = /^queued (\d+) /.exec(result.stdout);
  if (!match) throw new Error(`hls queue failed: ${result.code} ${result.stdout}`);
  return Number(match[1]);
}

/** An issues.opened body whose issue number is the JSON text `number` (so 2^53+1 reaches hls as written). */
const issueWithNumber = (number: string): string =>
  JSON.stringify(issuePayload(7, REPO)).replace('"number":7', `"number":${number}`);

describe('numbers and ids that build GitHub paths', () => {
  it.each([
    ['1e20', '100000000000000000000'],
    ['2^53+1', '9007199254740993'],
    ['-1', '-1'],
    ['"12" (a string)', '"12"'],
    ['0', '0'],
    ['1.5', '1.5'],
  ])('an issue number of %s fails the event before any request is built from it', async (_name, number) => {
    s = await stage({ anthropic: { respond: () => ({ kind: 'json', value: TRIAGE }) } });
    const id = await queued(s, 'issues', issueWithNumber(number));
    const result = await runHls(['worker', '--once'], { env: s.env });
    expect(result.code).toBe(0);

    expect(eventRow(s.db, id)).toMatchObject({
      status: 'failed',
      error_class: 'permanent:invalid_payload',
      error_message: expect.stringMatching(/^invalid payload: issue\.number: expected a positive safe integer/),
    });
    expect(s.github.requests.filter((request) => /\/issues\b/.test(request.path))).toEqual([]);
    expect(s.anthropic.messageCalls()).toHaveLength(0);
  });

  it('an issue number at the top of the safe range is used as it is', async () => {
    s = await stage({ anthropic: { respond: () => ({ kind: 'json', value: TRIAGE }) } });
    const number = Number.MAX_SAFE_INTEGER;
    s.github.repo(REPO).issues.set(number, { number, title: 't', body: 'b', labels: [], user: 'alice', comments: [] });
    const id = await queued(s, 'issues', issueWithNumber(String(number)));
    await runHls(['worker', '--once'], { env: s.env });

    expect(eventRow(s.db, id).status).toBe('completed');
    const posted = s.github.requests.filter(
      (request) => request.method === 'POST' && request.path.endsWith('/comments'),
    );
    expect(posted.map((request) => request.path)).toEqual([`/repos/${REPO}/issues/${number}/comments`]);
  });

  it('a pull request number of a review that is not a safe integer fails the event', async () => {
    s = await stage({ anthropic: { respond: () => ({ kind: 'json', value: TRIAGE }) } });
    const body = JSON.stringify({
      action: 'submitted',
      review: { body: 'This needs changes before it can be merged, see the comments.', state: 'commented' },
      pull_request: { number: 7, title: 'Fix', body: 'Fixes it', user: { login: 'bob' } },
      repository: { full_name: REPO },
      sender: { login: 'alice', type: 'User' },
    }).replace('"number":7', '"number":1e300');
    const id = await queued(s, 'pull_request_review', body);
    await runHls(['worker', '--once'], { env: s.env });

    expect(eventRow(s.db, id)).toMatchObject({ status: 'failed', error_class: 'permanent:invalid_payload' });
    expect(eventRow(s.db, id).error_message).toMatch(/^invalid payload: pull_request\.number: /);
    expect(s.github.requests.filter((request) => /\/(issues|pulls)\b/.test(request.path))).toEqual([]);
  });

  it.each([
    [
      'a run id given as a string',
      { id: '99' },
      /^invalid payload: workflow_run\.id: expected a positive safe integer/,
    ],
    ['a run id of 1e20', { id: 1e20 }, /^invalid payload: workflow_run\.id: /],
    [
      'a pull request number of -1 in the run',
      { pull_requests: [{ number: -1 }] },
      /^invalid payload: workflow_run\.pull_requests\.0\.number: /,
    ],
  ])('workflow_run with %s fails the event before any Actions request', async (_name, patch, message) => {
    s = await stage({ anthropic: { respond: () => ({ kind: 'json', value: TRIAGE }) } });
    const run = {
      id: 99,
      name: 'CI',
      head_branch: 'fix',
      conclusion: 'failure',
      html_url: 'https://github.com/x',
      pull_requests: [{ number: 7 }],
      ...patch,
    };
    const body = JSON.stringify({
      action: 'completed',
      workflow_run: run,
      repository: { full_name: REPO },
      sender: { login: 'alice', type: 'User' },
    });
    const id = await queued(s, 'workflow_run', body);
    await runHls(['worker', '--once'], { env: s.env });

    expect(eventRow(s.db, id)).toMatchObject({ status: 'failed', error_class: 'permanent:invalid_payload' });
    expect(eventRow(s.db, id).error_message).toMatch(message);
    expect(s.github.requests.filter((request) => /\/(actions|issues)\b/.test(request.path))).toEqual([]);
  });

  it.each([
    ['a number', 7],
    ['an object', { name: 'opened' }],
    ['a 1 MB string', 'o'.repeat(1024 * 1024)],
  ])('an action that is %s fails the event (it would pass the action filter unseen)', async (_name, action) => {
    s = await stage({ anthropic: { respond: () => ({ kind: 'json', value: TRIAGE }) } });
    const id = await queued(s, 'issues', JSON.stringify({ ...issuePayload(7, REPO), action }));
    await runHls(['worker', '--once'], { env: s.env });

    expect(eventRow(s.db, id)).toMatchObject({ status: 'failed', error_class: 'permanent:invalid_payload' });
    expect(eventRow(s.db, id).error_message).toMatch(/^invalid payload: action: /);
    expect(s.github.requests.filter((request) => /\/issues\b/.test(request.path))).toEqual([]);
    expect(s.anthropic.messageCalls()).toHaveLength(0);
  });
});

describe('hls render reads the payload as the worker does', () => {
  it('refuses an event whose payload fails its check with 65 and one line', async () => {
    s = await stage();
    const id = await queued(s, 'issues', issueWithNumber('1e20'));
    const result = await runHls(['render', String(id)], { env: s.env });
    expect(result.code).toBe(65);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'error: invalid payload: issue.number: expected a positive safe integer (got 100000000000000000000)\n',
    );
  });
});

describe('user-written fields are capped before the prompt is rendered', () => {
  it('a 20 MB title reaches the model as its first 1,000 characters', async () => {
    s = await stage({ anthropic: { respond: () => ({ kind: 'json', value: TRIAGE }) } });
    const title = 'T'.repeat(20 * 1024 * 1024);
    const login = 'L'.repeat(1024 * 1024);
    const labels = Array.from({ length: 5000 }, (_, index) => ({ name: `label-${index}-${'x'.repeat(200)}` }));
    const payload = issuePayload(7, REPO);
    Object.assign(payload.issue as object, { title, labels, user: { login } });
    s.github.repo(REPO).issues.set(7, { number: 7, title: 't', body: 'b', labels: [], user: 'alice', comments: [] });
    const id = await queued(s, 'issues', JSON.stringify(payload));
    await runHls(['worker', '--once'], { env: s.env });

    expect(eventRow(s.db, id).status).toBe('completed');
    const [call] = s.anthropic.messageCalls();
    const prompt = String(call!.body.messages[0].content);
    expect(prompt.length).toBeLessThan(60_000);
    expect(prompt).toContain(`${'T'.repeat(1000)}\n[… ${title.length - 1000} more characters cut]`);
    expect(prompt).not.toContain('T'.repeat(1001));
    expect(prompt).not.toContain('L'.repeat(1001));
  });

  it('a 2 MB repository name that is not configured gives a bounded skip reason', async () => {
    s = await stage();
    const name = `octo-org/${'r'.repeat(2 * 1024 * 1024)}`;
    const id = await queued(s, 'issues', JSON.stringify(issuePayload(7, name)));
    await runHls(['worker', '--once'], { env: s.env });
    const row = eventRow(s.db, id);
    expect(row.status).toBe('skipped');
    expect(row.skip_reason!.length).toBeLessThan(1100);
    expect(row.skip_reason).toMatch(/^repository octo-org\/r+\n\[… \d+ more characters cut\] is not configured$/);
  });

  it('a long comment and the commenter login are capped in an issue_comment prompt', async () => {
    s = await stage({
      anthropic: { respond: () => ({ kind: 'json', value: TRIAGE }) },
      config: { filters: { comment_trigger: '@hls' } },
    });
    s.github.repo(REPO).issues.set(7, { number: 7, title: 't', body: 'b', labels: [], user: 'alice', comments: [] });
    const issue = issuePayload(7, REPO).issue;
    const body = JSON.stringify({
      action: 'created',
      issue,
      comment: { body: `@hls please look ${'c'.repeat(5 * 1024 * 1024)}`, user: { login: 'u'.repeat(100_000) } },
      repository: { full_name: REPO },
      sender: { login: 'alice', type: 'User' },
    });
    const id = await queued(s, 'issue_comment', body);
    await runHls(['worker', '--once'], { env: s.env });

    expect(eventRow(s.db, id).status).toBe('completed');
    const prompt = String(s.anthropic.messageCalls()[0]!.body.messages[0].content);
    expect(prompt.length).toBeLessThan(60_000);
    expect(prompt).not.toContain('u'.repeat(1001));
  });
});

describe('hls queue refuses deeply nested JSON', () => {
  it('answers 65 with one line for 10 M levels of arrays in 20 MB', async () => {
    s = await stage();
    const depth = 10_000_000;
    const body = Buffer.alloc(depth * 2, '[');
    body.fill(']', depth);
    const result = await queueRaw(s, 'issues', body);
    expect(result.code).toBe(65);
    expect(result.stdout).toBe('error: body is nested deeper than 64 levels\n');
    expect(storeCreated(s.db)).toBe(false);
  });

  it('stores a payload nested exactly 64 levels deep and refuses 65', async () => {
    s = await stage();
    const nestedIn = (levels: number) =>
      JSON.stringify(issuePayload(7, REPO, { deep: '@' })).replace(
        '"@"',
        `${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}`,
      );
    // The payload object itself is the first level.
    expect((await queueRaw(s, 'issues', nestedIn(64))).stdout).toMatch(/^queued \d+ issues\.opened /);
    const refused = await queueRaw(s, 'issues', nestedIn(65));
    expect([refused.code, refused.stdout]).toEqual([65, 'error: body is nested deeper than 64 levels\n']);
  });
});

describe('hls doctor --hooks caps the hooks file it reads', () => {
  const example = readFileSync(join(ROOT, 'examples/webhook/hooks.json'), 'utf8');

  it('a hooks file over 1 MiB is one FAIL line, not a parse of the whole file', async () => {
    s = await stage();
    const path = join(s.dir, 'hooks.json');
    const fd = openSync(path, 'w');
    writeSync(fd, example);
    writeSync(fd, Buffer.alloc(2 * 1024 * 1024, ' '));
    closeSync(fd);
    const result = await runHls(['doctor', '--hooks', path], { env: { HLS_CONFIG: s.config } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n').filter((line) => line.includes('hooks file'));
    expect(lines).toEqual([`FAIL hooks file: ${path}: larger than 1 MiB; a relay hooks file is a few KiB`]);
  });

  it('an endless hooks file (/dev/zero) is one FAIL line, not a hang', async () => {
    s = await stage();
    const result = await runHls(['doctor', '--hooks', '/dev/zero'], { env: { HLS_CONFIG: s.config } });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FAIL hooks file: /dev/zero: larger than 1 MiB; a relay hooks file is a few KiB\n');
  });
});

describe('capText and capPayload (in process)', () => {
  it('keeps short text, cuts long text with a note, and never splits a surrogate pair', () => {
    expect(capText('short', 10)).toBe('short');
    expect(capText('abcdefghij', 4)).toBe('abcd\n[… 6 more characters cut]');
    expect(capText('abc😀def', 4)).toBe('abc\n[… 5 more characters cut]');
    for (let max = 0; max < 40; max++) {
      const text = '😀a'.repeat(20);
      const cut = capText(text, max);
      const kept = cut.split('\n[…')[0]!;
      expect(text.startsWith(kept)).toBe(true);
      expect(kept.length).toBeLessThanOrEqual(max);
      expect(/[\ud800-\udbff]$/.test(kept)).toBe(false);
    }
  });

  it('caps every string by its kind and every list, at any depth, keeping other values', () => {
    const payload = JSON.parse(
      JSON.stringify({
        issue: { title: 't'.repeat(5000), body: 'b'.repeat(50_000), number: 7, draft: false, milestone: null },
        comment: { body: 'c'.repeat(30_000), user: { login: 'l'.repeat(2000) } },
        labels: Array.from({ length: 500 }, (_, index) => ({ name: `n${index}` })),
        ['__proto__']: { polluted: true },
      }),
    );
    const capped = capPayload(payload) as any;
    expect(capped.issue.title).toBe(capText('t'.repeat(5000), NAME_CHARS));
    expect(capped.issue.body).toBe(capText('b'.repeat(50_000), TEXT_CHARS));
    expect(capped.comment.body).toBe(capText('c'.repeat(30_000), TEXT_CHARS));
    expect(capped.comment.user.login).toBe(capText('l'.repeat(2000), NAME_CHARS));
    expect(capped.issue).toMatchObject({ number: 7, draft: false, milestone: null });
    expect(capped.labels).toHaveLength(MAX_ITEMS);
    expect(Object.getPrototypeOf(capped)).toBe(Object.prototype);
    expect(({} as any).polluted).toBeUndefined();
  });
});
