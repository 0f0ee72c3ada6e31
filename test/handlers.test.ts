import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventRow, query, runHls } from './helpers/hls.js';
import { queueIssueEvent, queuePayload, REPO, stage, type Stage } from './helpers/pipeline.js';

let s: Stage | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const promptOf = (db: string, id: number) =>
  query<{ claude_prompt: string; github_actions_json: string | null }>(
    db,
    'SELECT * FROM claude_analyses WHERE webhook_id = ?',
    id,
  )[0];

function pullRequest(number: number, extra: Record<string, unknown> = {}) {
  return {
    number,
    title: 'Fail with a clear error on an empty config',
    body: 'Fixes #42.',
    draft: false,
    user: { login: 'bob', type: 'User' },
    html_url: `https://github.com/${REPO}/pull/${number}`,
    labels: [],
    ...extra,
  };
}

describe('built-in handlers end to end', () => {
  it('pull_request.opened reviews the diff and comments on the pull request', async () => {
    s = await stage();
    s.github.repo(REPO).pulls.set(5, {
      number: 5,
      diff: 'diff --git a/src/config.js b/src/config.js\n+  if (!config) throw new Error("empty config");\n',
      files: [{ filename: 'src/config.js', status: 'modified', additions: 1, deletions: 0, changes: 1 }],
    });
    const id = await queuePayload(s, 'pull_request', { action: 'opened', number: 5, pull_request: pullRequest(5) });
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);
    expect(eventRow(s.db, id)).toMatchObject({ status: 'completed', error_message: null });
    const prompt = promptOf(s.db, id)!.claude_prompt;
    expect(prompt).toContain('- src/config.js (modified, +1 -0)');
    expect(prompt).toContain('throw new Error("empty config")');
    expect(s.github.repo(REPO).issues.get(5)!.comments).toHaveLength(1);
  });

  it('falls back to per-file patches when GitHub refuses the diff as too large (406)', async () => {
    s = await stage();
    s.github.repo(REPO).pulls.set(6, {
      number: 6,
      diff: '',
      tooLargeForDiff: true,
      files: [
        {
          filename: 'big.txt',
          status: 'added',
          additions: 3,
          deletions: 0,
          changes: 3,
          patch: '@@ -0,0 +1,3 @@\n+a\n+b\n+c',
        },
      ],
    });
    const id = await queuePayload(s, 'pull_request', {
      action: 'synchronize',
      number: 6,
      pull_request: pullRequest(6),
    });
    await runHls(['worker', '--once'], { env: s.env });
    expect(eventRow(s.db, id)).toMatchObject({ status: 'completed', error_message: null });
    const prompt = promptOf(s.db, id)!.claude_prompt;
    expect(prompt).toContain('GitHub refused the full diff as too large');
    expect(prompt).toContain('--- big.txt\n@@ -0,0 +1,3 @@');
  });

  it('skips draft pull requests and closed ones, with zero model calls', async () => {
    s = await stage();
    const draft = await queuePayload(s, 'pull_request', {
      action: 'opened',
      number: 8,
      pull_request: pullRequest(8, { draft: true }),
    });
    const closed = await queuePayload(s, 'pull_request', { action: 'closed', number: 8, pull_request: pullRequest(8) });
    await runHls(['worker', '--once'], { env: s.env });
    expect(eventRow(s.db, draft)).toMatchObject({ status: 'skipped', skip_reason: 'draft pull request' });
    expect(eventRow(s.db, closed)).toMatchObject({
      status: 'skipped',
      skip_reason: 'action pull_request.closed is not enabled',
    });
    expect(s.anthropic.messageCalls()).toHaveLength(0);
  });

  it('pull_request_review.submitted with a body is analysed; an empty approval is not', async () => {
    s = await stage();
    s.github.repo(REPO).pulls.set(9, { number: 9, diff: '', files: [] });
    const review = (body: string | null, state: string) => ({
      action: 'submitted',
      pull_request: pullRequest(9),
      review: { id: 1, body, state, user: { login: 'carol', type: 'User' } },
    });
    const withBody = await queuePayload(
      s,
      'pull_request_review',
      review('Please add a test for the empty file case before merging.', 'commented'),
    );
    const empty = await queuePayload(s, 'pull_request_review', review(null, 'approved'));
    await runHls(['worker', '--once'], { env: s.env });
    expect(eventRow(s.db, withBody)).toMatchObject({ status: 'completed', error_message: null });
    expect(promptOf(s.db, withBody)!.claude_prompt).toContain('Please add a test for the empty file case');
    expect(eventRow(s.db, empty)).toMatchObject({ status: 'skipped', skip_reason: 'body shorter than 20 characters' });
  });

  it('workflow_run.completed with failure explains the failing job from its log tail', async () => {
    s = await stage();
    s.github.repo(REPO).pulls.set(11, { number: 11, diff: '', files: [] });
    s.github.repo(REPO).runs.set(77, {
      id: 77,
      jobs: [
        { id: 1, name: 'lint', conclusion: 'success', log: 'all good' },
        {
          id: 2,
          name: 'test',
          conclusion: 'failure',
          log: `${'noise\n'.repeat(5000)}FAIL test/config.test.js: expected error "empty config"`,
        },
      ],
    });
    const run = (conclusion: string) => ({
      action: 'completed',
      workflow_run: {
        id: 77,
        name: 'CI',
        head_branch: 'fix',
        conclusion,
        html_url: 'https://github.com/x/y/actions/runs/77',
        pull_requests: [{ number: 11 }],
      },
    });
    const failed = await queuePayload(s, 'workflow_run', run('failure'));
    const passed = await queuePayload(s, 'workflow_run', run('success'));
    await runHls(['worker', '--once'], { env: s.env });
    expect(eventRow(s.db, failed)).toMatchObject({ status: 'completed', error_message: null });
    const prompt = promptOf(s.db, failed)!.claude_prompt;
    expect(prompt).toContain('Failing job "test" (failure)');
    expect(prompt).toContain('FAIL test/config.test.js');
    expect(prompt).not.toContain('all good');
    expect(prompt.length).toBeLessThan(20_000);
    expect(s.github.repo(REPO).issues.get(11)!.comments).toHaveLength(1);
    expect(eventRow(s.db, passed)).toMatchObject({ status: 'skipped', skip_reason: 'workflow run concluded success' });
  });

  it('release.published is reviewed and recorded; nothing is written to GitHub', async () => {
    s = await stage();
    const id = await queuePayload(s, 'release', {
      action: 'published',
      release: {
        id: 3,
        tag_name: 'v2.4.0',
        name: 'v2.4.0',
        body: 'Fixes the crash on empty configs. No breaking changes.',
        html_url: 'https://github.com/x/y/releases/v2.4.0',
        author: { login: 'alice' },
      },
    });
    await runHls(['worker', '--once'], { env: s.env });
    expect(eventRow(s.db, id)).toMatchObject({ status: 'completed', error_message: null });
    expect(promptOf(s.db, id)!.claude_prompt).toContain('Fixes the crash on empty configs');
    expect(JSON.parse(promptOf(s.db, id)!.github_actions_json!).planned_only).toBe(
      'no issue or pull request thread to act on',
    );
    expect(s.github.writes()).toHaveLength(0);
  });

  it('issue_comment is thread context unless it mentions the bot, then it is answered in the sticky comment', async () => {
    s = await stage({ config: { github: { bot_login: 'hls-bot' } } });
    await queueIssueEvent(s, 12);
    const comment = (body: string) => ({
      action: 'created',
      issue: {
        number: 12,
        title: 'Widget crashes',
        body: 'It crashes on start, every time.',
        user: { login: 'alice' },
        labels: [],
        html_url: 'u',
      },
      comment: { id: 900, body, user: { login: 'dave', type: 'User' } },
    });
    const plain = await queuePayload(s, 'issue_comment', comment('Same here on version 2.3.0, also on macOS.'));
    const asking = await queuePayload(
      s,
      'issue_comment',
      comment('@hls-bot could you check whether this is a duplicate of #3?'),
    );
    await runHls(['worker', '--once'], { env: s.env });
    expect(eventRow(s.db, plain)).toMatchObject({ status: 'skipped', skip_reason: 'recorded as thread context' });
    expect(eventRow(s.db, asking)).toMatchObject({ status: 'completed', error_message: null });
    const prompt = promptOf(s.db, asking)!.claude_prompt;
    expect(prompt).toContain('could you check whether this is a duplicate');
    expect(prompt).toContain('Same here on version 2.3.0');
    expect(s.anthropic.messageCalls()).toHaveLength(2);
    expect(s.github.repo(REPO).issues.get(12)!.comments).toHaveLength(1);
  });

  it('ping and unconfigured repositories are skipped with a reason', async () => {
    s = await stage();
    const ping = await queuePayload(s, 'ping', { zen: 'Keep it logically awesome.', hook_id: 1 });
    const other = await queuePayload(s, 'issues', {
      action: 'opened',
      repository: { full_name: 'someone/else' },
      issue: { number: 1, title: 't', body: 'a long enough body for the filter', user: { login: 'x' }, labels: [] },
    });
    await runHls(['worker', '--once'], { env: s.env });
    expect(eventRow(s.db, ping)).toMatchObject({ status: 'skipped', skip_reason: 'ping: GitHub checking the hook' });
    expect(eventRow(s.db, other)).toMatchObject({
      status: 'skipped',
      skip_reason: 'repository someone/else is not configured',
    });
  });
});

describe('per-repository settings', () => {
  it('a repository prompts_dir overrides the bundled template', async () => {
    s = await stage();
    const dir = join(s.dir, 'my-prompts', 'issues');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'analyze.liquid'),
      'Custom triage for {{ repository.name }} #{{ subject.number }}:\n{{ subject.body | data: "body" }}\n',
    );
    const config = JSON.parse(readFileSync(s.config, 'utf8'));
    config.repositories[0].prompts_dir = join(s.dir, 'my-prompts');
    writeFileSync(s.config, JSON.stringify(config));
    const id = await queueIssueEvent(s, 51);
    await runHls(['worker', '--once'], { env: s.env });
    const prompt = promptOf(s.db, id)!.claude_prompt;
    expect(prompt.startsWith(`Custom triage for ${REPO} #51:\n<untrusted_data source="body">`)).toBe(true);
  });

  it('a model without a price fails at once with the fix in the message, before any call', async () => {
    s = await stage({ config: { claude: { model: 'claude-unpriced-9' } } });
    const id = await queueIssueEvent(s, 53);
    await runHls(['worker', '--once'], { env: s.env });
    expect(eventRow(s.db, id)).toMatchObject({
      status: 'failed',
      error_message: 'no prices for model "claude-unpriced-9": add claude.prices["claude-unpriced-9"] to the config',
    });
    expect(
      query<{ attempts: number; error_class: string }>(s.db, 'SELECT * FROM webhook_events WHERE id = ?', id)[0],
    ).toMatchObject({
      attempts: 1,
      error_class: 'permanent:handler',
    });
    expect(s.anthropic.messageCalls()).toHaveLength(0);
  });

  it('a call whose worst case exceeds the repository budget fails visibly instead of waiting forever', async () => {
    s = await stage();
    const config = JSON.parse(readFileSync(s.config, 'utf8'));
    config.repositories[0].daily_budget_usd = 0.001;
    writeFileSync(s.config, JSON.stringify(config));
    const id = await queueIssueEvent(s, 52);
    await runHls(['worker', '--once'], { env: s.env });
    expect(eventRow(s.db, id).status).toBe('failed');
    expect(eventRow(s.db, id).error_message).toMatch(
      /^one call may cost up to \$0\.\d+, more than the daily budget of \$0\.001$/,
    );
    expect(s.anthropic.messageCalls()).toHaveLength(0);
  });
});
