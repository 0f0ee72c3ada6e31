import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TRIAGE, type MessagesRequest, type ScriptedReply } from '../src/simulators/anthropic.js';
import { query, runHls } from './helpers/hls.js';
import { queueIssueEvent, REPO, stage, type Stage } from './helpers/pipeline.js';

let s: Stage | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** Issues of one repository: 11 and 13 report the same crash in other words, 12 is about something else. */
const ISSUES: Record<number, { title: string; body: string }> = {
  11: {
    title: 'App crashes when uploading a PNG larger than 10 MB',
    body: 'Uploading a large PNG image (12 MB) through the upload dialog crashes the app with "heap out of memory". Smaller images upload fine.',
  },
  12: {
    title: 'Typo in the installation guide',
    body: 'The installation guide says "npm instal" instead of "npm install" in the second step of the quick start.',
  },
  13: {
    title: 'Crash when uploading a big PNG image',
    body: 'The app crashes with out of memory as soon as I upload a PNG image of about 15 MB. Uploading small images works.',
  },
  14: {
    title: 'Uploading a large PNG makes the app crash (heap out of memory)',
    body: 'Same as others may have seen: a PNG upload above 10 MB crashes the app, heap out of memory.',
  },
};

/** The issue number of the event a prompt is about (its URL is the first one the issue prompts show). */
function issueOf(request: MessagesRequest): number {
  const content = request.messages[0]?.content;
  const text = typeof content === 'string' ? content : JSON.stringify(content);
  return Number(new RegExp(`github\\.com/${REPO}/issues/(\\d+)\\b`).exec(text)?.[1] ?? -1);
}

function promptOf(s: Stage, number: number): string {
  const call = s.anthropic.messageCalls().find((request) => issueOf(request.body as MessagesRequest) === number);
  const content = (call!.body as MessagesRequest).messages[0]!.content;
  return typeof content === 'string' ? content : JSON.stringify(content);
}

async function relatedStage(replies: Record<number, Record<string, unknown>>): Promise<Stage> {
  const staged = await stage({
    anthropic: {
      respond: (request): ScriptedReply => ({
        kind: 'json',
        value: { ...structuredClone(DEFAULT_TRIAGE), ...(replies[issueOf(request)] ?? {}) },
      }),
    },
    config: {
      similar: { max: 3, min_score: 0.05, duplicate_confidence: 0.8 },
      repositories: [
        {
          name: REPO,
          events: ['issues'],
          labels: { allowed: ['bug', 'duplicate'], duplicate: 'duplicate' },
        },
      ],
    },
  });
  staged.github.repo(REPO).labels.push({ name: 'duplicate', color: 'cfd3d7', description: 'This already exists' });
  return staged;
}

/** Queues issue `number` with its text and runs the worker until the queue is empty. */
async function analyse(st: Stage, ...numbers: number[]): Promise<number[]> {
  const ids: number[] = [];
  for (const number of numbers) ids.push(await queueIssueEvent(st, number, { issue: issueObject(number) }));
  expect((await runHls(['worker', '--once'], { env: st.env })).code).toBe(0);
  return ids;
}

function issueObject(number: number) {
  return {
    number,
    ...ISSUES[number]!,
    state: 'open',
    user: { login: 'alice', type: 'User' },
    html_url: `https://github.com/${REPO}/issues/${number}`,
    updated_at: new Date(Date.UTC(2026, 10, 1, 12, number)).toISOString(),
  };
}

const stickyComment = (st: Stage, number: number) =>
  st.github
    .repo(REPO)
    .issues.get(number)!
    .comments.find((comment) => comment.body.includes('<!-- hls:thread'));

describe('related and duplicate issues', () => {
  it('offers the similar threads in the prompt, links those the model chose, and labels a firm duplicate', async () => {
    s = await relatedStage({ 13: { related: [11, 77], duplicate_of: 11, confidence: 0.9 } });
    await analyse(s, 11, 12);
    const [id13] = await analyse(s, 13);

    // The prompt: #11 offered (with hls's earlier assessment), its text fenced as data; the typo issue not.
    const prompt = promptOf(s, 13);
    expect(prompt).toMatch(/- #11: issue, open, similarity [\d.]+; hls assessed it earlier: priority medium/);
    expect(prompt).toMatch(
      /<untrusted_data source="related thread">\ntitle: App crashes when uploading a PNG larger than 10 MB\ncomponent \(earlier assessment\): core\n/,
    );
    expect(prompt).not.toContain('#12:');
    expect(promptOf(s, 11)).toContain('No similar threads were found in this repository');

    // The recorded answer keeps only what was offered: 77 is dropped.
    const [analysis] = query<{ analysis_json: string; similar_offered: string }>(
      s.db,
      `SELECT analysis_json, similar_offered FROM claude_analyses WHERE webhook_id = ${id13}`,
    );
    expect(JSON.parse(analysis!.analysis_json)).toMatchObject({ related: [11], duplicate_of: 11 });
    expect((JSON.parse(analysis!.similar_offered) as { number: number }[]).map((t) => t.number)).toContain(11);

    // The sticky comment links #11 and not #77; the duplicate label is on.
    const comment = stickyComment(s, 13)!.body;
    expect(comment).toContain('Possible duplicate of #11');
    expect(comment).not.toContain('77');
    expect(s.github.repo(REPO).issues.get(13)!.labels).toContain('duplicate');

    // hls show: what was offered and what the model chose.
    const shown = JSON.parse((await runHls(['show', String(id13), '--json'], { env: s.env })).stdout);
    expect(shown.calls[0].related.offered.map((t: { number: number }) => t.number)).toContain(11);
    expect(shown.calls[0].related).toMatchObject({ chosen: [11], duplicate_of: 11 });
    const text = (await runHls(['show', String(id13)], { env: s.env })).stdout;
    expect(text).toMatch(/related offered #11 \(\d\.\d\d\)/);
    expect(text).toContain('related chosen  #11; duplicate of #11');
  });

  it('names a duplicate without the label below the confidence, and drops a number it was not offered', async () => {
    s = await relatedStage({
      13: { related: [11], duplicate_of: 11, confidence: 0.5, labels: ['duplicate', 'bug'] },
      14: { related: [12, 13], duplicate_of: 12, confidence: 0.95 },
    });
    await analyse(s, 11);
    const [id13] = await analyse(s, 13);
    const [id14] = await analyse(s, 14);

    // #13: linked as a possible duplicate, but not labelled (the model's own "duplicate" label neither).
    expect(stickyComment(s, 13)!.body).toContain('Possible duplicate of #11');
    const labels13 = s.github.repo(REPO).issues.get(13)!.labels;
    expect(labels13).toContain('bug');
    expect(labels13).not.toContain('duplicate');
    const [record] = query<{ github_actions_json: string }>(
      s.db,
      `SELECT github_actions_json FROM claude_analyses WHERE webhook_id = ${id13}`,
    );
    expect(JSON.parse(record!.github_actions_json).labels.ignored).toContain(
      'duplicate (duplicate_of #11 below confidence 0.8)',
    );

    // #14: #12 was never indexed, so never offered: dropped from related and as duplicate_of; no label.
    const [analysis] = query<{ analysis_json: string }>(
      s.db,
      `SELECT analysis_json FROM claude_analyses WHERE webhook_id = ${id14}`,
    );
    expect(JSON.parse(analysis!.analysis_json)).toMatchObject({ related: [13], duplicate_of: null });
    const comment14 = stickyComment(s, 14)!.body;
    expect(comment14).toContain('Related: #13');
    expect(comment14).not.toContain('#12');
    expect(comment14).not.toContain('duplicate');
    expect(s.github.repo(REPO).issues.get(14)!.labels).not.toContain('duplicate');
  });

  it('indexes every issue it sees, also those it skips, and keeps the newest version', async () => {
    s = await relatedStage({});
    // A too-short body is skipped by the filters, yet indexed.
    await queueIssueEvent(s, 21, { issue: { ...issueObject(11), number: 21, body: 'crash' } });
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);
    const older = { ...issueObject(11), number: 21, title: 'Old title', updated_at: '2020-01-01T00:00:00Z' };
    await queueIssueEvent(s, 21, { action: 'edited', issue: older });
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);
    expect(query(s.db, `SELECT number, title, state FROM similar_threads`)).toEqual([
      { number: 21, title: ISSUES[11]!.title, state: 'open' },
    ]);
  });
});
