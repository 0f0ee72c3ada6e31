/**
 * Proves the GitHub fake against the real Octokit (and its retry plugin), so suites that use the fake
 * can trust it.
 */
import { retry } from '@octokit/plugin-retry';
import { RequestError } from '@octokit/request-error';
import { Octokit } from '@octokit/rest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeGitHub, type FakeGitHub } from '../../src/simulators/github.js';

const OWNER = 'acme';
const REPO = 'widgets';
const FULL = `${OWNER}/${REPO}`;

/** Octokit's request-log plugin reports every failed request with console.error by default. */
const log = { debug() {}, info() {}, warn() {}, error() {} };

let gh: FakeGitHub;
let octokit: Octokit;

beforeEach(async () => {
  gh = await startFakeGitHub();
  gh.repo(FULL);
  octokit = new Octokit({ auth: 'ghp_test', baseUrl: gh.url, log });
});

afterEach(async () => {
  await gh.close();
});

function seedIssue(n = 1): void {
  gh.repo(FULL).issues.set(n, {
    number: n,
    title: 'It broke',
    body: 'details',
    labels: [],
    user: 'alice',
    comments: [],
  });
}

async function rejection(promise: Promise<unknown>): Promise<RequestError> {
  try {
    await promise;
  } catch (err) {
    return err as RequestError;
  }
  throw new Error('expected a rejection');
}

describe('auth', () => {
  it('accepts `token X` (what Octokit sends for a PAT) and reports the login', async () => {
    const { data, headers, status } = await octokit.users.getAuthenticated();
    expect(status).toBe(200);
    expect(data.login).toBe('hls-bot');
    expect(data.type).toBe('User');
    const sent = gh.requests[0]!;
    expect(sent.headers.authorization).toBe('token ghp_test');
    expect(sent.headers['user-agent']).toMatch(
      /^octokit-rest\.js\/22\.\d+\.\d+ octokit-core\.js\/7\.\d+\.\d+ Node\.js\/20/,
    );
    expect(sent.headers.accept).toBe('application/vnd.github.v3+json');
    expect(headers['x-ratelimit-limit']).toBe('5000');
    expect(headers['x-ratelimit-remaining']).toBe('4999');
    expect(headers['x-ratelimit-used']).toBe('1');
    expect(headers['x-ratelimit-resource']).toBe('core');
    expect(Number(headers['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
    expect(headers['x-github-request-id']).toMatch(/^[0-9A-F:]+$/);
    // `auth: 'Bearer …'` is normalised by @octokit/auth-token to `token …`.
    await new Octokit({ auth: 'Bearer ghp_test', baseUrl: gh.url, log }).users.getAuthenticated();
    expect(gh.requests[1]!.headers.authorization).toBe('token ghp_test');
  });

  it('accepts `Bearer X` (any case) and types a [bot] login as Bot', async () => {
    await gh.close();
    const jwtLike = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln';
    gh = await startFakeGitHub({ token: jwtLike, login: 'hls-app[bot]' });
    // Octokit sends `bearer X` only for a three-part (JWT-shaped) token.
    const { data } = await new Octokit({ auth: jwtLike, baseUrl: gh.url, log }).users.getAuthenticated();
    expect(gh.requests[0]!.headers.authorization).toBe(`bearer ${jwtLike}`);
    expect(data).toMatchObject({ login: 'hls-app[bot]', type: 'Bot' });
    // A hand-built Authorization header (curl, fetch) with the usual capital B.
    const res = await fetch(`${gh.url}/user`, { headers: { authorization: `Bearer ${jwtLike}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { login: string }).login).toBe('hls-app[bot]');
  });

  it('answers a wrong token with 401 Bad credentials as a RequestError', async () => {
    const bad = new Octokit({ auth: 'ghp_wrong', baseUrl: gh.url, log });
    const err = await rejection(bad.users.getAuthenticated());
    expect(err).toBeInstanceOf(RequestError);
    expect(err.name).toBe('HttpError');
    expect(err.status).toBe(401);
    expect(err.message).toBe('Bad credentials - https://docs.github.com/rest');
    expect(err.response?.data).toEqual({
      message: 'Bad credentials',
      documentation_url: 'https://docs.github.com/rest',
      status: '401',
    });
    expect(err.response?.headers['x-ratelimit-limit']).toBe('60');
    // The token is redacted in the error's copy of the request.
    expect(err.request.headers.authorization).toBe('token [REDACTED]');
    expect(gh.requests.at(-1)!.status).toBe(401);
    // No Authorization at all.
    const anon = await rejection(new Octokit({ baseUrl: gh.url, log }).users.getAuthenticated());
    expect(anon.status).toBe(401);
    expect(anon.response?.data).toMatchObject({ message: 'Requires authentication' });
  });
});

describe('comments', () => {
  it('creates, updates and lists (paginated, oldest first)', async () => {
    seedIssue(7);
    const created = await octokit.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 7, body: 'first' });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ body: 'first', user: { login: 'hls-bot', type: 'User' } });
    expect(created.data.html_url).toBe(`https://github.com/${FULL}/issues/7#issuecomment-${created.data.id}`);
    expect(created.data.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    for (let i = 2; i <= 5; i++) {
      await octokit.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 7, body: `comment ${i}` });
    }
    const updated = await octokit.issues.updateComment({
      owner: OWNER,
      repo: REPO,
      comment_id: created.data.id,
      body: 'edited',
    });
    expect(updated.status).toBe(200);
    expect(updated.data.body).toBe('edited');

    const before = gh.requests.length;
    const all = await octokit.paginate(octokit.issues.listComments, {
      owner: OWNER,
      repo: REPO,
      issue_number: 7,
      per_page: 2,
    });
    expect(all.map((c) => c.body)).toEqual(['edited', 'comment 2', 'comment 3', 'comment 4', 'comment 5']);
    const pages = gh.requests.slice(before);
    expect(pages.map((r) => r.query.page ?? '1')).toEqual(['1', '2', '3']);

    const got = await octokit.issues.getComment({ owner: OWNER, repo: REPO, comment_id: created.data.id });
    expect(got.data.body).toBe('edited');
    const issue = await octokit.issues.get({ owner: OWNER, repo: REPO, issue_number: 7 });
    expect(issue.data.comments).toBe(5);

    expect(gh.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      ...Array(5).fill(`POST /repos/${FULL}/issues/7/comments`),
      `PATCH /repos/${FULL}/issues/comments/${created.data.id}`,
    ]);
    expect(gh.writes()[0]!.body).toEqual({ body: 'first' });
    expect(gh.repo(FULL).issues.get(7)!.comments).toHaveLength(5);
  });

  it('rejects a 65,537-character body with 422 and accepts 65,536', async () => {
    seedIssue(1);
    const err = await rejection(
      octokit.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 1, body: 'x'.repeat(65_537) }),
    );
    expect(err).toBeInstanceOf(RequestError);
    expect(err.status).toBe(422);
    expect(err.response?.data).toMatchObject({
      message: 'Validation Failed',
      errors: [
        {
          resource: 'IssueComment',
          code: 'unprocessable',
          field: 'data',
          message: 'Body is too long (maximum is 65536 characters)',
        },
      ],
    });
    expect(err.message).toMatch(/^Validation Failed: \{"resource":"IssueComment".*Body is too long/);
    const ok = await octokit.issues.createComment({
      owner: OWNER,
      repo: REPO,
      issue_number: 1,
      body: 'x'.repeat(65_536),
    });
    expect(ok.status).toBe(201);
    expect(gh.writes().map((w) => w.status)).toEqual([422, 201]);
  });

  it('404s unknown issues, comments, repos and routes', async () => {
    seedIssue(1);
    for (const call of [
      octokit.issues.get({ owner: OWNER, repo: REPO, issue_number: 2 }),
      octokit.issues.getComment({ owner: OWNER, repo: REPO, comment_id: 99 }),
      octokit.issues.get({ owner: OWNER, repo: 'nope', issue_number: 1 }),
      octokit.request('GET /repos/{owner}/{repo}/no-such-thing', { owner: OWNER, repo: REPO }),
    ]) {
      const err = await rejection(call);
      expect(err.status).toBe(404);
      expect(err.response?.data).toEqual({
        message: 'Not Found',
        documentation_url: 'https://docs.github.com/rest',
        status: '404',
      });
    }
  });
});

describe('labels', () => {
  it('addLabels silently creates unknown labels in the repo (grey, no description)', async () => {
    const repo = gh.repo(FULL);
    repo.labels.push({ name: 'bug', color: 'd73a4a', description: "Something isn't working" });
    seedIssue(3);
    const { data } = await octokit.issues.addLabels({
      owner: OWNER,
      repo: REPO,
      issue_number: 3,
      labels: ['Bug', 'needs-triage'],
    });
    expect(data.map((l) => [l.name, l.color])).toEqual([
      ['bug', 'd73a4a'],
      ['needs-triage', 'ededed'],
    ]);
    expect(repo.labels).toEqual([
      { name: 'bug', color: 'd73a4a', description: "Something isn't working" },
      { name: 'needs-triage', color: 'ededed', description: null },
    ]);
    expect(gh.writes()[0]!.body).toEqual({ labels: ['Bug', 'needs-triage'] });
    const issue = await octokit.issues.get({ owner: OWNER, repo: REPO, issue_number: 3 });
    expect(issue.data.labels).toMatchObject([{ name: 'bug' }, { name: 'needs-triage' }]);

    // Replace, remove one, and read back.
    await octokit.issues.setLabels({ owner: OWNER, repo: REPO, issue_number: 3, labels: ['wontfix'] });
    expect(repo.issues.get(3)!.labels).toEqual(['wontfix']);
    expect(repo.labels.map((l) => l.name)).toEqual(['bug', 'needs-triage', 'wontfix']);
    const removed = await octokit.issues.removeLabel({ owner: OWNER, repo: REPO, issue_number: 3, name: 'wontfix' });
    expect(removed.data).toEqual([]);
    const missing = await rejection(
      octokit.issues.removeLabel({ owner: OWNER, repo: REPO, issue_number: 3, name: 'wontfix' }),
    );
    expect(missing.status).toBe(404);
    expect(missing.response?.data).toMatchObject({ message: 'Label does not exist' });
    const listed = await octokit.issues.listLabelsOnIssue({ owner: OWNER, repo: REPO, issue_number: 3 });
    expect(listed.data).toEqual([]);
  });

  it('creates (201, 422 already_exists), gets, renames and paginates over >100 labels', async () => {
    const created = await octokit.issues.createLabel({
      owner: OWNER,
      repo: REPO,
      name: 'area: ci/cd',
      color: 'FF0000',
    });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ name: 'area: ci/cd', color: 'ff0000', description: null, default: false });
    const dup = await rejection(
      octokit.issues.createLabel({ owner: OWNER, repo: REPO, name: 'AREA: CI/CD', color: '00ff00' }),
    );
    expect(dup.status).toBe(422);
    expect(dup.response?.data).toMatchObject({
      message: 'Validation Failed',
      errors: [{ resource: 'Label', code: 'already_exists', field: 'name' }],
    });
    const got = await octokit.issues.getLabel({ owner: OWNER, repo: REPO, name: 'area: ci/cd' });
    expect(got.data.id).toBe(created.data.id);
    expect(gh.requests.at(-1)!.path).toBe(`/repos/${FULL}/labels/area%3A%20ci%2Fcd`);
    const renamed = await octokit.issues.updateLabel({
      owner: OWNER,
      repo: REPO,
      name: 'area: ci/cd',
      new_name: 'ci',
      description: 'Pipelines',
    });
    expect(renamed.data).toMatchObject({ id: created.data.id, name: 'ci', color: 'ff0000', description: 'Pipelines' });
    expect((await rejection(octokit.issues.getLabel({ owner: OWNER, repo: REPO, name: 'area: ci/cd' }))).status).toBe(
      404,
    );

    for (let i = 0; i < 249; i++) gh.repo(FULL).labels.push({ name: `label-${i}`, color: 'ededed', description: null });
    const first = await octokit.issues.listLabelsForRepo({ owner: OWNER, repo: REPO, per_page: 100 });
    expect(first.data).toHaveLength(100);
    expect(first.headers.link).toBe(
      `<${gh.url}/repos/${FULL}/labels?per_page=100&page=2>; rel="next", <${gh.url}/repos/${FULL}/labels?per_page=100&page=3>; rel="last"`,
    );
    const before = gh.requests.length;
    const all = await octokit.paginate(octokit.issues.listLabelsForRepo, { owner: OWNER, repo: REPO, per_page: 100 });
    expect(all).toHaveLength(250);
    expect(new Set(all.map((l) => l.name)).size).toBe(250);
    expect(gh.requests.length - before).toBe(3);
    const defaultPage = await octokit.issues.listLabelsForRepo({ owner: OWNER, repo: REPO });
    expect(defaultPage.data).toHaveLength(30);
  });
});

describe('pulls', () => {
  const DIFF = 'diff --git a/a.txt b/a.txt\nindex 1..2 100644\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-old\n+new\n';

  function seedPull(n: number, extra: { tooLargeForDiff?: boolean; files?: number } = {}): void {
    const files = Array.from({ length: extra.files ?? 1 }, (_, i) => ({
      filename: i === 0 ? 'a.txt' : `f${i}.txt`,
      status: 'modified',
      additions: 1,
      deletions: 1,
      changes: 2,
      patch: '@@ -1 +1 @@\n-old\n+new',
    }));
    gh.repo(FULL).pulls.set(n, { number: n, diff: DIFF, files, tooLargeForDiff: extra.tooLargeForDiff });
  }

  it('returns JSON normally and the diff as a string with mediaType diff', async () => {
    seedPull(12);
    const json = await octokit.pulls.get({ owner: OWNER, repo: REPO, pull_number: 12 });
    expect(json.data).toMatchObject({ number: 12, state: 'open', changed_files: 1, additions: 1, deletions: 1 });
    expect(json.data.head.sha).toMatch(/^[0-9a-f]{40}$/);

    const diff = await octokit.pulls.get({ owner: OWNER, repo: REPO, pull_number: 12, mediaType: { format: 'diff' } });
    expect(gh.requests.at(-1)!.headers.accept).toBe('application/vnd.github.v3.diff');
    expect(typeof diff.data).toBe('string');
    expect(diff.data as unknown as string).toBe(DIFF);
    expect(diff.headers['content-type']).toBe('application/vnd.github.v3.diff; charset=utf-8');

    // The PR is an issue too: comments and labels work on its number.
    await octokit.issues.addLabels({ owner: OWNER, repo: REPO, issue_number: 12, labels: ['ci'] });
    const issue = await octokit.issues.get({ owner: OWNER, repo: REPO, issue_number: 12 });
    expect(issue.data.pull_request?.url).toBe(`${gh.url}/repos/${FULL}/pulls/12`);
  });

  it('answers a too-large diff with 406 too_large (flag or >300 files), and listFiles still works', async () => {
    seedPull(13, { tooLargeForDiff: true });
    const err = await rejection(
      octokit.pulls.get({ owner: OWNER, repo: REPO, pull_number: 13, mediaType: { format: 'diff' } }),
    );
    expect(err).toBeInstanceOf(RequestError);
    expect(err.status).toBe(406);
    expect(err.message).toMatch(/^Sorry, the diff exceeded the maximum number of files \(300\)\./);
    expect(err.response?.data).toMatchObject({
      errors: [{ resource: 'PullRequest', field: 'diff', code: 'too_large' }],
    });
    expect(err.response?.headers['x-ratelimit-remaining']).toBeDefined();
    // JSON format is still fine.
    expect((await octokit.pulls.get({ owner: OWNER, repo: REPO, pull_number: 13 })).status).toBe(200);

    seedPull(14, { files: 301 });
    expect(
      (await rejection(octokit.pulls.get({ owner: OWNER, repo: REPO, pull_number: 14, mediaType: { format: 'diff' } })))
        .status,
    ).toBe(406);
    const files = await octokit.paginate(octokit.pulls.listFiles, {
      owner: OWNER,
      repo: REPO,
      pull_number: 14,
      per_page: 100,
    });
    expect(files).toHaveLength(301);
    expect(files[0]).toMatchObject({ filename: 'a.txt', status: 'modified', additions: 1, deletions: 1, changes: 2 });
    expect(files[0]!.patch).toContain('+new');
  });
});

describe('actions', () => {
  it('lists jobs of a run and downloads a job log through the 302', async () => {
    gh.repo(FULL).runs.set(555, {
      id: 555,
      jobs: [
        { id: 9001, name: 'build', conclusion: 'success', log: 'all good\n' },
        { id: 9002, name: 'test', conclusion: 'failure', log: '2026-01-01T00:00:00Z ##[error]boom\n' },
      ],
    });
    const jobs = await octokit.actions.listJobsForWorkflowRun({ owner: OWNER, repo: REPO, run_id: 555 });
    expect(jobs.data.total_count).toBe(2);
    expect(jobs.data.jobs.map((j) => [j.id, j.name, j.status, j.conclusion])).toEqual([
      [9001, 'build', 'completed', 'success'],
      [9002, 'test', 'completed', 'failure'],
    ]);
    expect(jobs.data.jobs[1]!.steps).toEqual([]);

    const log = await octokit.actions.downloadJobLogsForWorkflowRun({ owner: OWNER, repo: REPO, job_id: 9002 });
    // fetch followed the redirect: Octokit sees the final 200 and URL, and the text.
    expect(log.status).toBe(200);
    expect(log.url).toMatch(new RegExp(`^${gh.url}/_logs/9002\\?sig=[0-9a-f]+$`));
    expect(log.data).toBe('2026-01-01T00:00:00Z ##[error]boom\n');
    const [redirect, download] = gh.requests.slice(-2);
    expect([redirect!.path, redirect!.status]).toEqual([`/repos/${FULL}/actions/jobs/9002/logs`, 302]);
    expect([download!.path, download!.status]).toEqual(['/_logs/9002', 200]);

    expect(
      (await rejection(octokit.actions.listJobsForWorkflowRun({ owner: OWNER, repo: REPO, run_id: 1 }))).status,
    ).toBe(404);
    expect(
      (await rejection(octokit.actions.downloadJobLogsForWorkflowRun({ owner: OWNER, repo: REPO, job_id: 1 }))).status,
    ).toBe(404);
  });
});

describe('rate limit and scripted failures', () => {
  it('counts every request (writes and failures too) and reports it on /rate_limit', async () => {
    seedIssue(1);
    await octokit.issues.get({ owner: OWNER, repo: REPO, issue_number: 1 });
    await octokit.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 1, body: 'hi' });
    gh.failNext({ path: /\/issues\/1$/ }, { status: 502 });
    const err = await rejection(octokit.issues.get({ owner: OWNER, repo: REPO, issue_number: 1 }));
    expect(err.status).toBe(502);
    expect(err.response?.headers['x-ratelimit-used']).toBe('3');
    const { data } = await octokit.rateLimit.get();
    expect(data.resources.core).toMatchObject({ limit: 5000, used: 3, remaining: 4997 });
    expect(gh.requests.map((r) => r.status)).toEqual([200, 201, 502, 200]);
  });

  it('answers 403 with x-ratelimit-remaining 0 once the core limit is used up', async () => {
    await gh.close();
    gh = await startFakeGitHub({ rateLimit: 2 });
    octokit = new Octokit({ auth: 'ghp_test', baseUrl: gh.url, log });
    await octokit.users.getAuthenticated();
    await octokit.users.getAuthenticated();
    const err = await rejection(octokit.users.getAuthenticated());
    expect(err.status).toBe(403);
    expect(err.message).toMatch(/^API rate limit exceeded/);
    expect(err.response?.headers['x-ratelimit-remaining']).toBe('0');
  });

  it('plugin-retry retries a scripted 502 (fast with retry.retryAfterBaseValue)', async () => {
    const client = new (Octokit.plugin(retry))({
      auth: 'ghp_test',
      baseUrl: gh.url,
      log,
      retry: { retryAfterBaseValue: 1 },
      request: { retries: 1 },
    });
    gh.failNext({ method: 'GET', path: /^\/user$/ }, { status: 502 });
    const started = Date.now();
    const { data } = await client.users.getAuthenticated();
    expect(data.login).toBe('hls-bot');
    expect(Date.now() - started).toBeLessThan(500);
    expect(gh.requests.map((r) => r.status)).toEqual([502, 200]);

    // Two 502s with retries: 1 → the second one surfaces.
    gh.failNext({ path: /^\/user$/ }, { status: 502 }, 2);
    const err = await rejection(client.users.getAuthenticated());
    expect(err.status).toBe(502);
    expect(gh.requests.map((r) => r.status)).toEqual([502, 200, 502, 502]);
  });

  it('plugin-retry ignores request.retryAfter: the delay is (retryCount+1)² × retryAfterBaseValue (1 s default)', async () => {
    const client = new (Octokit.plugin(retry))({
      auth: 'ghp_test',
      baseUrl: gh.url,
      log,
      request: { retries: 1, retryAfter: 0 },
    });
    gh.failNext({ path: /^\/user$/ }, { status: 502 });
    const started = Date.now();
    await client.users.getAuthenticated();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(gh.requests.map((r) => r.status)).toEqual([502, 200]);
  });

  it('plugin-retry does not retry 4xx other than 429', async () => {
    const client = new (Octokit.plugin(retry))({
      auth: 'ghp_test',
      baseUrl: gh.url,
      log,
      retry: { retryAfterBaseValue: 1 },
    });
    gh.failNext({ path: /^\/user$/ }, { status: 429, body: { message: 'Too Many Requests' } });
    await client.users.getAuthenticated();
    expect(gh.requests.map((r) => r.status)).toEqual([429, 200]);
    gh.failNext({ path: /^\/user$/ }, { status: 403, body: { message: 'Forbidden' } });
    expect((await rejection(client.users.getAuthenticated())).status).toBe(403);
    expect(gh.requests.map((r) => r.status)).toEqual([429, 200, 403]);
  });

  it("a scripted 403 with retry-after carries GitHub's secondary-limit body and changes nothing", async () => {
    seedIssue(1);
    gh.failNext({ method: 'POST', path: /\/comments$/ }, { status: 403, headers: { 'retry-after': '1' } });
    const err = await rejection(octokit.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 1, body: 'x' }));
    expect(err.status).toBe(403);
    expect(err.message).toMatch(/^You have exceeded a secondary rate limit/);
    expect(err.response?.headers['retry-after']).toBe('1');
    expect(gh.repo(FULL).issues.get(1)!.comments).toHaveLength(0);
  });
});

describe('secondary limits on content-creating requests (writeLimits)', () => {
  const SECONDARY = /^You have exceeded a secondary rate limit\. Please wait a few minutes before you try again\./;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const comment = (body: string) => octokit.issues.createComment({ owner: OWNER, repo: REPO, issue_number: 1, body });

  async function restart(options: Parameters<typeof startFakeGitHub>[0]): Promise<void> {
    await gh.close();
    gh = await startFakeGitHub(options);
    gh.repo(FULL);
    seedIssue(1);
    octokit = new Octokit({ auth: 'ghp_test', baseUrl: gh.url, log });
  }

  it('refuses a write less than half the minimum interval after the last one; reads are never limited', async () => {
    await restart({ writeLimits: { minIntervalMs: 1000, windows: [] } });
    await comment('first');
    const err = await rejection(comment('too soon'));
    expect(err).toBeInstanceOf(RequestError);
    expect(err.status).toBe(403);
    expect(err.message).toMatch(SECONDARY);
    expect(err.response?.data).toMatchObject({
      documentation_url:
        'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
      status: '403',
    });
    expect(err.response?.headers['retry-after']).toBe('1');
    expect(err.response?.headers['x-ratelimit-used']).toBe('2'); // a refused write still costs a core point
    expect(gh.secondaryLimitAnswers).toBe(1);
    expect(
      gh
        .repo(FULL)
        .issues.get(1)!
        .comments.map((c) => c.body),
    ).toEqual(['first']); // nothing changed
    await octokit.issues.get({ owner: OWNER, repo: REPO, issue_number: 1 });

    // Half the interval after the last accepted write (the refused one does not count) is enough.
    await sleep(Math.max(0, gh.writes()[0]!.at + 500 - Date.now()));
    await comment('later');
    expect(gh.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 201', 'POST 403', 'GET 200', 'POST 201']);
    expect(gh.secondaryLimitAnswers).toBe(1);
  });

  it('refuses a write while a trailing window is full; retry-after is the whole seconds until it empties', async () => {
    await restart({
      writeLimits: {
        minIntervalMs: 0,
        windows: [
          { max: 2, ms: 1000 },
          { max: 3, ms: 3000 },
        ],
      },
    });
    const labels = () => octokit.issues.addLabels({ owner: OWNER, repo: REPO, issue_number: 1, labels: ['bug'] });
    await comment('one');
    await comment('two');
    const short = await rejection(labels());
    expect([short.status, short.response?.headers['retry-after']]).toEqual([403, '1']);
    expect(short.message).toMatch(SECONDARY);
    expect(gh.repo(FULL).issues.get(1)!.labels).toEqual([]);
    expect(gh.repo(FULL).labels).toEqual([]); // not even the silently created label

    // Once the first write has left the 1 s window, the 3 s window (3 writes) is what is full.
    await sleep(Math.max(0, gh.writes()[0]!.at + 1000 - Date.now()));
    await labels();
    const long = await rejection(comment('four'));
    expect([long.status, long.response?.headers['retry-after']]).toEqual([403, '2']);
    expect(gh.secondaryLimitAnswers).toBe(2);
    expect(
      gh
        .repo(FULL)
        .issues.get(1)!
        .comments.map((c) => c.body),
    ).toEqual(['one', 'two']);
    expect(gh.writes().map((w) => w.status)).toEqual([201, 201, 403, 200, 403]);
  });

  it('the primary limit still applies, and answers first', async () => {
    await restart({ rateLimit: 2, writeLimits: { minIntervalMs: 60_000, windows: [{ max: 1, ms: 60_000 }] } });
    await comment('one');
    // retry-after is the longer wait: the window's 60 s, not the 30 s of half the interval.
    const secondary = await rejection(comment('two'));
    expect([secondary.status, secondary.response?.headers['retry-after']]).toEqual([403, '60']);
    const primary = await rejection(comment('three'));
    expect(primary.status).toBe(403);
    expect(primary.message).toMatch(/^API rate limit exceeded/);
    expect(primary.response?.headers['x-ratelimit-remaining']).toBe('0');
    expect(primary.response?.headers['retry-after']).toBeUndefined();
    expect(gh.secondaryLimitAnswers).toBe(1);
  });
});
