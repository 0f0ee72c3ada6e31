import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TRIAGE } from '../src/simulators/anthropic.js';
import type { FakeRole, RecordedRequest } from '../src/simulators/github.js';
import { directQueue } from './helpers/direct-enqueue.js';
import { query, runHls } from './helpers/hls.js';
import { issuePayload } from './helpers/payloads.js';
import { REPO, seedIssue, stage, type Stage } from './helpers/pipeline.js';

const BOT = 'hls-bot';
const OPT_OUT = 'hls:ignore';
const ROLES: Record<string, FakeRole> = { maria: 'maintain', ada: 'admin', rita: 'read' };

let s: Stage | undefined;
const direct = directQueue('commands');
/** Ids of the comments the tests write, above those the fake gives its own. */
let commentIds = 3_000_000_000;
afterEach(async () => {
  await direct.close();
  await s?.close();
  s = undefined;
});

/** The issue in the fake and its `issues` delivery (opened unless `extra` says otherwise). */
async function queueIssueEvent(st: Stage, number: number, extra: Record<string, unknown> = {}): Promise<number> {
  const payload = issuePayload(number, REPO, extra);
  seedIssue(st.github, REPO, payload);
  return direct.enqueue(st.db, 'issues', payload);
}

/** The closing note's table: one line per command comment. */
const table: { command: string; user: string; happened: string }[] = [];
afterAll(() => {
  if (table.length === 0) return;
  const width = (key: 'command' | 'user') => Math.max(key.length, ...table.map((row) => row[key].length));
  const [c, u] = [width('command'), width('user')];
  const lines = [`${'command'.padEnd(c)}  ${'user'.padEnd(u)}  what happened`];
  for (const row of table) lines.push(`${row.command.padEnd(c)}  ${row.user.padEnd(u)}  ${row.happened}`);
  console.log(`comment commands (${process.env.HLS_TEST_BACKEND ?? 'sqlite'}):\n${lines.join('\n')}`);
});

async function commandStage(): Promise<Stage> {
  const staged = await stage({
    config: {
      github: {
        bot_login: BOT,
        // On, so that the writes of commands are seen taking pacing slots like any other write.
        pacing: { enabled: true, min_interval_seconds: 0, windows: [{ max: 500, seconds: 600 }] },
      },
    },
  });
  const repo = staged.github.repo(REPO);
  repo.labels.push({ name: OPT_OUT, color: 'cccccc', description: 'hls leaves this thread alone' });
  for (const [login, role] of Object.entries(ROLES)) repo.permissions.set(login, role);
  return staged;
}

interface Queued {
  id: number;
  commentId: number;
  body: string;
  user: string;
}

/** The comment as GitHub has it (reactions land on it) and its issue_comment.created delivery. */
async function queueComment(st: Stage, number: number, user: string, body: string, type = 'User'): Promise<Queued> {
  const issue = st.github.repo(REPO).issues.get(number)!;
  const commentId = ++commentIds;
  const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  issue.comments.push({ id: commentId, body, user, created_at: at, updated_at: at });
  const id = await direct.enqueue(st.db, 'issue_comment', {
    repository: { full_name: REPO, name: 'widgets', owner: { login: 'octo-org' } },
    action: 'created',
    issue: {
      number,
      title: issue.title,
      body: issue.body,
      user: { login: issue.user },
      labels: issue.labels.map((name) => ({ name })),
      html_url: `https://github.com/${REPO}/issues/${number}`,
    },
    comment: { id: commentId, body, user: { login: user, type } },
    sender: { login: user, type },
  });
  return { id, commentId, body, user };
}

const event = (db: string, id: number) =>
  query<{ status: string; skip_reason: string | null }>(
    db,
    'SELECT status, skip_reason FROM webhook_events WHERE id = ?',
    id,
  )[0]!;
const analyses = (db: string) =>
  query<{ webhook_id: number }>(db, `SELECT webhook_id FROM claude_analyses WHERE outcome = 'ok' ORDER BY id`).map(
    (row) => row.webhook_id,
  );
const reactions = (st: Stage, number: number, commentId: number) =>
  (
    st.github
      .repo(REPO)
      .issues.get(number)!
      .comments.find((c) => c.id === commentId)!.reactions ?? []
  ).map((r) => r.content);
const touching = (requests: RecordedRequest[], commentId: number) =>
  requests.filter((r) => r.path.includes(`/comments/${commentId}`));
const permissionChecks = (st: Stage, user: string) =>
  st.github.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/collaborators/${user}/permission`));
const botComments = (st: Stage, number: number) =>
  st.github
    .repo(REPO)
    .issues.get(number)!
    .comments.filter((c) => c.user === BOT);

function note(st: Stage, queued: Queued, number: number, done: string): void {
  const row = event(st.db, queued.id);
  const reacted = reactions(st, number, queued.commentId);
  table.push({
    command: JSON.stringify(queued.body).slice(1, -1),
    user: queued.user,
    happened: `${row.status}${row.skip_reason ? ` (${row.skip_reason})` : ''}; reactions [${reacted.join(' ')}]; ${done}`,
  });
}

describe('commands in comments', () => {
  it('a maintainer’s command is taken; a reader’s, a bot’s and hls’s own are not; an unknown one is confused', async () => {
    s = await commandStage();
    await queueIssueEvent(s, 21);
    const help = await queueComment(s, 21, 'maria', '/hls help');
    const helpAgain = await queueComment(s, 21, 'ada', `@${BOT} HELP`);
    const reader = await queueComment(s, 21, 'rita', '/hls ignore');
    const bot = await queueComment(s, 21, 'dependabot[bot]', '/hls triage', 'Bot');
    const itself = await queueComment(s, 21, BOT, '/hls triage');
    const unknown = await queueComment(s, 21, 'maria', '/hls frobnicate');
    const fenced = await queueComment(s, 21, 'maria', '```\n/hls ignore\n```\nis how you stop it.');
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);

    // help: one comment listing the commands, the second help leaves it as it is.
    expect(event(s.db, help.id)).toEqual({ status: 'completed', skip_reason: null });
    expect(event(s.db, helpAgain.id)).toEqual({ status: 'completed', skip_reason: null });
    const helpComments = botComments(s, 21).filter((c) => c.body.includes('<!-- hls:help'));
    expect(helpComments).toHaveLength(1);
    expect(helpComments[0]!.body).toContain('`/hls ignore`');
    expect(s.github.writes().filter((r) => r.method === 'POST' && r.path.endsWith('/issues/21/comments'))).toHaveLength(
      2, // the issue's triage comment and the one help comment
    );
    expect(reactions(s, 21, help.commentId)).toEqual(['eyes', '+1']);
    expect(reactions(s, 21, helpAgain.commentId)).toEqual(['eyes', '+1']);

    // A reader: asked about, then nothing written; a bot and hls itself: not even asked about.
    expect(event(s.db, reader.id)).toEqual({
      status: 'skipped',
      skip_reason: 'comment command from rita, whose role is read: write, maintain or admin needed',
    });
    expect(permissionChecks(s, 'rita')).toHaveLength(1);
    expect(touching(s.github.writes(), reader.commentId)).toEqual([]);
    expect(query(s.db, 'SELECT * FROM thread_settings')).toEqual([]);
    expect(event(s.db, bot.id)).toEqual({ status: 'skipped', skip_reason: 'sender dependabot[bot] is a bot' });
    expect(event(s.db, itself.id)).toEqual({ status: 'skipped', skip_reason: `event caused by hls itself (${BOT})` });
    for (const user of ['dependabot[bot]', BOT]) expect(permissionChecks(s, encodeURIComponent(user))).toEqual([]);
    expect(touching(s.github.requests, bot.commentId)).toEqual([]);
    expect(touching(s.github.requests, itself.commentId)).toEqual([]);

    // Unknown: confused, nothing else. A command inside a code block is just a comment.
    expect(event(s.db, unknown.id)).toEqual({
      status: 'skipped',
      skip_reason: 'unknown comment command "frobnicate" from maria',
    });
    expect(reactions(s, 21, unknown.commentId)).toEqual(['confused']);
    expect(event(s.db, fenced.id)).toEqual({ status: 'skipped', skip_reason: 'recorded as thread context' });
    expect(touching(s.github.requests, fenced.commentId)).toEqual([]);

    // Every write of the run: the issue's analysis, then only the taken commands' (none for rita's).
    const reaction = (queued: Queued, content: string) =>
      `POST /issues/comments/${queued.commentId}/reactions ${content}`;
    expect(
      s.github
        .writes()
        .map(
          (w) => `${w.method} ${w.path.replace(`/repos/${REPO}`, '')}${w.body?.content ? ` ${w.body.content}` : ''}`,
        ),
    ).toEqual([
      'POST /issues/21/labels',
      'POST /issues/21/comments',
      reaction(help, 'eyes'),
      'POST /issues/21/comments',
      reaction(help, '+1'),
      reaction(helpAgain, 'eyes'),
      reaction(helpAgain, '+1'),
      reaction(unknown, 'confused'),
    ]);
    // Maria's permission was asked once for her three commands (cached for a minute).
    expect(permissionChecks(s, 'maria')).toHaveLength(1);
    // Only the issue itself was analysed.
    expect(s.anthropic.messageCalls()).toHaveLength(1);
    // Every write took a pacing slot (reactions included).
    expect(query<{ n: number }>(s.db, 'SELECT count(*) AS n FROM github_writes')[0]!.n).toBe(s.github.writes().length);

    note(s, help, 21, 'one help comment posted');
    note(s, helpAgain, 21, 'help comment found, left as it was');
    note(s, reader, 21, 'permission read; nothing written');
    note(s, bot, 21, 'not a command: bots are filtered first');
    note(s, itself, 21, 'not a command: hls never answers itself');
    note(s, unknown, 21, 'unknown command');
    note(s, fenced, 21, 'inside a code fence: thread context');
  });

  it('triage analyses an analysed thread again and edits its one comment', async () => {
    s = await commandStage();
    const second = { ...DEFAULT_TRIAGE, comment: 'Second look: the crash comes from the config loader.' };
    s.anthropic.enqueue({ kind: 'json', value: { ...DEFAULT_TRIAGE } }, { kind: 'json', value: second });
    const opened = await queueIssueEvent(s, 30);
    const triage = await queueComment(s, 30, 'maria', '/hls triage');
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);

    expect(event(s.db, triage.id)).toEqual({ status: 'completed', skip_reason: null });
    expect(analyses(s.db)).toEqual([opened, triage.id]);
    const ours = botComments(s, 30);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.body).toContain('Second look: the crash comes from the config loader.');
    expect(
      s.github.writes().filter((r) => r.method === 'PATCH' && r.path.endsWith(`/comments/${ours[0]!.id}`)),
    ).toHaveLength(1);
    expect(reactions(s, 30, triage.commentId)).toEqual(['eyes', '+1']);
    note(s, triage, 30, 'analysed again; the triage comment edited');
  });

  it('ignore stops analyses of the thread (an edit is skipped, triage still works), resume starts them again', async () => {
    s = await commandStage();
    const opened = await queueIssueEvent(s, 40);
    const ignore = await queueComment(s, 40, 'ada', '/hls ignore');
    const edit = (body: string, labels: string[]) =>
      queueIssueEvent(s!, 40, {
        action: 'edited',
        issue: {
          number: 40,
          title: 'Widget crashes on start (#40)',
          body,
          user: { login: 'alice', type: 'User' },
          labels: labels.map((name) => ({ name })),
          html_url: `https://github.com/${REPO}/issues/40`,
        },
        changes: { body: { from: 'Steps to reproduce: start the widget. Expected: it runs. Actual: it crashes.' } },
      });
    const ignoredEdit = await edit('Completely rewritten: the crash only happens with an empty config file.', [
      OPT_OUT,
    ]);
    const triage = await queueComment(s, 40, 'maria', '/hls triage');
    const resume = await queueComment(s, 40, 'maria', '@hls-bot resume');
    const laterEdit = await edit('Rewritten again: it also crashes with a config file that has only comments.', []);
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);

    expect(event(s.db, ignore.id)).toEqual({ status: 'completed', skip_reason: null });
    expect(event(s.db, ignoredEdit)).toEqual({
      status: 'skipped',
      skip_reason: 'thread ignored by ada (/hls ignore; /hls resume to analyse it again)',
    });
    expect(event(s.db, resume.id)).toEqual({ status: 'completed', skip_reason: null });
    expect(event(s.db, laterEdit)).toEqual({ status: 'completed', skip_reason: null });
    // An explicit triage still analyses an ignored thread; automatic analyses wait for resume.
    expect(event(s.db, triage.id)).toEqual({ status: 'completed', skip_reason: null });
    expect(analyses(s.db)).toEqual([opened, triage.id, laterEdit]);
    const settings = query<{ thread_key: string; ignored: unknown; changed_by: string }>(
      s.db,
      'SELECT thread_key, ignored, changed_by FROM thread_settings',
    );
    expect(settings.map((row) => ({ ...row, ignored: Boolean(row.ignored) }))).toEqual([
      { thread_key: `${REPO}#40`, ignored: false, changed_by: 'maria' },
    ]);
    // The opt-out label: added by ignore, removed by resume.
    const labelWrites = s.github
      .writes()
      .filter(
        (r) =>
          r.path.includes('/issues/40/labels') &&
          JSON.stringify([decodeURIComponent(r.path), r.body]).includes(OPT_OUT),
      )
      .map(
        (r) =>
          `${r.method} ${decodeURIComponent(r.path.replace(/^.*\/issues\/40\/labels/, ''))} ${JSON.stringify(r.body ?? null)}`,
      );
    expect(labelWrites).toEqual([`POST  {"labels":["${OPT_OUT}"]}`, `DELETE /${OPT_OUT} null`]);
    expect(s.github.repo(REPO).issues.get(40)!.labels).not.toContain(OPT_OUT);
    expect(reactions(s, 40, ignore.commentId)).toEqual(['eyes', '+1']);
    expect(reactions(s, 40, resume.commentId)).toEqual(['eyes', '+1']);
    note(s, ignore, 40, `thread ignored; label ${OPT_OUT} added`);
    table.push({
      command: '(issue edited)',
      user: 'alice',
      happened: `skipped (${event(s.db, ignoredEdit).skip_reason})`,
    });
    note(s, triage, 40, 'analysed although the thread is ignored (it stays ignored)');
    note(s, resume, 40, `thread resumed; label ${OPT_OUT} removed`);
    table.push({ command: '(issue edited)', user: 'alice', happened: 'completed: analysed again' });
  });
});
