// The related-issue index of the store, on the test backend (both projects run it): indexing, search,
// the assessments of related threads and the backfill's progress.
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { SIMILAR_BODY_CHARS, type IndexedThread } from '../src/store/types.js';
import { asStored, BACKEND, newDatabase } from './helpers/backend.js';
import { query, tempDir } from './helpers/hls.js';

const REPO = 'acme/widgets';
const opened: Store[] = [];
afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()));
});

async function fresh(): Promise<{ store: Store; db: string }> {
  const db = newDatabase(tempDir());
  const store = await openStore(db, { create: true });
  opened.push(store);
  return { store, db };
}

let updates = 0;
function thread(number: number, title: string, body = '', fields: Partial<IndexedThread> = {}): IndexedThread {
  return {
    repository: REPO,
    number,
    kind: 'issue',
    title,
    body,
    state: 'open',
    url: `https://github.com/${REPO}/issues/${number}`,
    updated_at: 1_700_000_000_000 + ++updates,
    ...fields,
  };
}

/** A small repository: one login bug and its duplicate in other words, and unrelated threads. */
const CORPUS: IndexedThread[] = [
  thread(
    1,
    'Login fails with 500 after password reset',
    'After resetting my password the login page returns HTTP 500.',
  ),
  thread(2, 'Dark mode toggle does not persist', 'The theme switches back to light on every reload.'),
  thread(3, 'Crash when uploading a large CSV file', 'Uploading a 200 MB CSV crashes the importer with out of memory.'),
  thread(4, 'Add keyboard shortcuts to the editor', 'It would be nice to have shortcuts for bold and italic.', {
    kind: 'pull_request',
    state: 'closed',
    url: `https://github.com/${REPO}/pull/4`,
  }),
  thread(5, 'Docs: typo in installation guide', 'The install page says "npm instal".'),
  thread(6, 'Server error signing in once the password was reset', 'Signing in after a password reset gives a 500.'),
];

describe('searching the index', () => {
  it('finds a thread written in other words, best first, scored in [0, 1], the query thread left out', async () => {
    const { store } = await fresh();
    await store.similar.indexThreads(CORPUS);
    const matches = await store.similar.search({
      repository: REPO,
      text: 'Server error signing in once the password was reset\n\nSigning in after a password reset gives a 500.',
      limit: 5,
      exclude: 6,
    });
    expect(matches[0]).toMatchObject({
      number: 1,
      kind: 'issue',
      title: 'Login fails with 500 after password reset',
      body: 'After resetting my password the login page returns HTTP 500.',
      state: 'open',
      url: `https://github.com/${REPO}/issues/1`,
    });
    expect(matches.map((m) => m.number)).not.toContain(6);
    for (const [i, match] of matches.entries()) {
      expect(match.score).toBeGreaterThan(0);
      expect(match.score).toBeLessThanOrEqual(1);
      if (i > 0) expect(match.score).toBeLessThanOrEqual(matches[i - 1]!.score);
    }
  });

  it('gives the same scores on both backends (golden figures of this corpus)', async () => {
    const { store } = await fresh();
    await store.similar.indexThreads(CORPUS);
    const scores = async (text: string) =>
      (await store.similar.search({ repository: REPO, text, limit: 3 })).map((m) => [m.number, m.score.toFixed(4)]);
    expect(await scores('login 500 after password reset')).toEqual([
      [1, '1.0000'],
      [6, '0.6641'],
    ]);
    expect(await scores('the CSV importer runs out of memory')).toEqual([[3, '0.6086']]);
  });

  it('searches only the given repository and stops at the limit', async () => {
    const { store } = await fresh();
    await store.similar.indexThreads([
      ...CORPUS,
      thread(1, 'Login fails with 500 after password reset', '', { repository: 'acme/other' }),
    ]);
    const other = await store.similar.search({ repository: 'acme/other', text: 'password reset 500', limit: 5 });
    expect(other.map((m) => m.number)).toEqual([1]);
    expect(other[0]!.body).toBe('');
    const one = await store.similar.search({ repository: REPO, text: 'password reset 500', limit: 1 });
    expect(one).toHaveLength(1);
    expect(await store.similar.search({ repository: 'acme/none', text: 'password', limit: 5 })).toEqual([]);
    expect(await store.similar.indexedCount(REPO)).toBe(6);
    expect(await store.similar.indexedCount('acme/other')).toBe(1);
    expect(await store.similar.indexedCount()).toBe(7);
  });

  it('never fails on hostile or empty text: at worst an empty answer', async () => {
    const { store } = await fresh();
    await store.similar.indexThreads([
      ...CORPUS,
      thread(7, '日本語のタイトル: ログインできない', 'パスワードをリセットした後、ログインできません。'),
      thread(8, 'كلمة المرور لا تعمل', '\u200fبعد إعادة التعيين\u200e'),
    ]);
    const hostile = [
      '',
      '   \n\t ',
      'the and of to a is it',
      '"',
      '"password',
      'password"reset',
      "'; DROP TABLE similar_threads; --",
      'NEAR(password reset, 2)',
      'password NEAR reset',
      'pass*',
      '*',
      'title:password',
      'body : reset',
      '^password',
      'password & reset | 500 ! (crash)',
      '!!!&&&|||((()))',
      '-password -reset',
      'password AND OR NOT reset',
      'a:b:c ::: :*',
      '🔥🔥 login 💥 crash 🚀',
      '\u200f\u202eldrow olleh\u202c \u2066password\u2069',
      '\0password\0reset\0',
      '\ud800 lone surrogate \udfff',
      'x'.repeat(1_000_000),
      'password reset '.repeat(70_000),
      Array.from({ length: 5000 }, (_, i) => `word${i}`).join(' '),
    ];
    for (const text of hostile) {
      const matches = await store.similar.search({ repository: REPO, text, limit: 5 });
      expect(Array.isArray(matches), text.slice(0, 40)).toBe(true);
    }
    const cjk = await store.similar.search({ repository: REPO, text: 'ログインできない問題', limit: 5 });
    expect(cjk[0]?.number).toBe(7);
    const arabic = await store.similar.search({ repository: REPO, text: 'كلمة المرور', limit: 5 });
    expect(arabic[0]?.number).toBe(8);
  });
});

describe('indexing', () => {
  it('keeps the newest version of a thread: an older one never replaces it', async () => {
    const { store, db } = await fresh();
    const first = thread(10, 'Uploads time out', 'Large uploads time out after 30 seconds.', { updated_at: 2000 });
    await store.similar.indexThread(first);
    await store.similar.indexThread({ ...first, title: 'Uploads hang forever', state: 'closed', updated_at: 3000 });
    await store.similar.indexThread({ ...first, title: 'Stale webhook version', updated_at: 2500 });
    expect(query(db, 'SELECT title, state, updated_at FROM similar_threads')).toEqual([
      { title: 'Uploads hang forever', state: 'closed', updated_at: 3000 },
    ]);
    expect(await store.similar.indexedCount(REPO)).toBe(1);
    // The index follows the row: the replaced title's words no longer find it, the new ones do.
    expect(await store.similar.search({ repository: REPO, text: 'webhook stale', limit: 5 })).toEqual([]);
    const found = await store.similar.search({ repository: REPO, text: 'uploads hang', limit: 5 });
    expect(found.map((m) => [m.number, m.state])).toEqual([[10, 'closed']]);
  });

  it('caps the body, and stores a NUL as the backend can', async () => {
    const { store, db } = await fresh();
    const long = 'ä'.repeat(SIMILAR_BODY_CHARS - 1) + '😀' + 'tail'.repeat(500);
    await store.similar.indexThreads([thread(11, 'Long body', long), thread(12, 'Title with a \0 NUL', 'body \0 too')]);
    const rows = query<{ number: number; title: string; body: string }>(
      db,
      'SELECT number, title, body FROM similar_threads ORDER BY number',
    );
    expect(rows[0]!.body).toBe('ä'.repeat(SIMILAR_BODY_CHARS - 1)); // the emoji is not cut in half
    expect(rows[1]).toMatchObject({ title: asStored('Title with a \0 NUL'), body: asStored('body \0 too') });
    const [match] = await store.similar.search({ repository: REPO, text: 'title with nul', limit: 5 });
    expect(match).toMatchObject({ number: 12, title: asStored('Title with a \0 NUL') });
  });

  it('keeps the term counts right when threads are replaced, and when two processes index at once', async () => {
    const { store, db } = await fresh();
    const second = await openStore(db);
    opened.push(second);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? store : second).similar.indexThread(thread(100 + (i % 10), `flaky test ${i % 10}`, 'retry')),
      ),
    );
    expect(await store.similar.indexedCount(REPO)).toBe(10);
    const counts = query<{ term: string; threads: number }>(
      db,
      `SELECT term, threads FROM similar_terms WHERE term IN ('flaki', 'retri', 'test') ORDER BY term`,
    );
    expect(counts).toEqual([
      { term: 'flaki', threads: 10 },
      { term: 'retri', threads: 10 },
      { term: 'test', threads: 10 },
    ]);
    await store.similar.indexThread(thread(100, 'renamed entirely', 'nothing alike'));
    expect(query(db, `SELECT threads FROM similar_terms WHERE term = 'flaki'`)).toEqual([{ threads: 9 }]);
  });

  it('records the backfill progress with the page it indexed, and on its own', async () => {
    const { store } = await fresh();
    expect(await store.similar.backfillState(REPO)).toBeUndefined();
    const written = await store.similar.indexThreads(CORPUS.slice(0, 3), {
      repository: REPO,
      next_page: 2,
      indexed: 3,
      finished_at: null,
    });
    expect(written).toBe(3);
    expect(await store.similar.indexThreads(CORPUS.slice(0, 3))).toBe(0); // the same versions again
    expect(await store.similar.backfillState(REPO)).toMatchObject({
      repository: REPO,
      next_page: 2,
      indexed: 3,
      finished_at: null,
    });
    await store.similar.saveBackfillState({ repository: REPO, next_page: 4, indexed: 250, finished_at: 1234 });
    const state = await store.similar.backfillState(REPO);
    expect(state).toMatchObject({ next_page: 4, indexed: 250, finished_at: 1234 });
    expect(state!.updated_at).toBeGreaterThan(0);
  });
});

describe('assessments of related threads', () => {
  it("is each thread's latest valid analysis, of that repository only", async () => {
    const { store } = await fresh();
    const analyse = async (repository: string, number: number, outcome: string, analysis: object | string | null) => {
      const payload = Buffer.from(`{"n":${++updates}}`);
      const eventId = (await store.queue.enqueue({
        deliveryId: `similar-${BACKEND}-${updates}`,
        eventType: 'issues',
        action: 'opened',
        repository,
        threadKey: `${repository}#${number}`,
        senderLogin: 'someone',
        senderType: 'User',
        hookId: null,
        payload,
        payloadSha256: createHash('sha256').update(payload).digest('hex'),
        signature: null,
      }))!;
      await store.ledger.recordAnalysis({
        eventId,
        eventType: 'issues',
        repository,
        model: 'claude',
        template: 'default',
        prompt: 'p',
        response: 'r',
        outcome: outcome as 'ok',
        analysisJson: analysis === null || typeof analysis === 'string' ? analysis : JSON.stringify(analysis),
        inputTokens: 1,
        outputTokens: 1,
        cacheWriteTokens: 0,
        cacheReadTokens: 0,
        costUsd: 0,
        processingMs: 1,
        replayGeneration: 0,
        requestId: null,
      });
    };
    const triage = (priority: string) => ({ priority, difficulty: 'easy', component: 'auth', confidence: 0.8 });
    await analyse(REPO, 1, 'ok', triage('low'));
    await analyse(REPO, 1, 'ok', triage('high'));
    await analyse(REPO, 1, 'failed', null);
    await analyse(REPO, 2, 'ok', triage('medium'));
    await analyse(REPO, 2, 'ok', null);
    await analyse(REPO, 3, 'ok', 'not json');
    await analyse('acme/other', 4, 'ok', triage('critical'));
    const assessed = await store.similar.assessments(REPO, [1, 2, 3, 4, 5]);
    expect(assessed.map(({ analysed_at, ...a }) => ({ ...a, dated: analysed_at > 0 }))).toEqual([
      { number: 1, priority: 'high', difficulty: 'easy', component: 'auth', confidence: 0.8, dated: true },
      { number: 2, priority: 'medium', difficulty: 'easy', component: 'auth', confidence: 0.8, dated: true },
    ]);
    expect(await store.similar.assessments(REPO, [])).toEqual([]);
  });
});
