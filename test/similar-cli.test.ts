// `hls similar index` (the backfill from the GitHub simulator, interrupted and resumed) and
// `hls similar ID|DELIVERY` / `--text`, as real processes. The backfill runs on both backends; the rest
// is the command's own logic over the store, which test/similar-store.test.ts covers on both.
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../src/simulators/github.js';
import { openStore } from '../src/store/open-store.js';
import { itOn } from './helpers/backend.js';
import { query, runHls } from './helpers/hls.js';
import { queuePayload, REPO, stage, type Stage } from './helpers/pipeline.js';

let s: Stage | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** A stage whose database exists (hls similar never creates it), with `count` threads in the simulator. */
async function backfillStage(count: number): Promise<Stage> {
  s = await stage();
  const store = await openStore(s.db, { create: true });
  await store.close();
  for (let number = 1; number <= count; number++) addIssue(s, number);
  return s;
}

/** Issue `number` in the simulator; every 10th a pull request, every 3rd closed. */
function addIssue(st: Stage, number: number, title = `Thread ${number} about widget part w${number}`): void {
  st.github.repo(REPO).issues.set(number, {
    number,
    title,
    body: `Body of ${number}`,
    labels: [],
    user: 'alice',
    comments: [],
    ...(number % 10 === 0 ? { pull_request: true } : {}),
    ...(number % 3 === 0 ? { state: 'closed' as const } : {}),
  });
}

const listRequests = (st: Stage): RecordedRequest[] =>
  st.github.requests.filter((r) => r.method === 'GET' && r.path === `/repos/${REPO}/issues`);
const pagesAsked = (st: Stage): string[] => listRequests(st).map((r) => `${r.query.page}:${r.status}`);
const index = (st: Stage, ...args: string[]) => runHls(['similar', 'index', '--repo', REPO, ...args], { env: st.env });

describe('hls similar index', () => {
  it('indexes every issue and pull request, a page of 100 at a time, and says so', async () => {
    const st = await backfillStage(250);
    const result = await index(st);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`indexed 250 of ${REPO}, pages 3, done\n`);
    expect(result.stderr.trim().split('\n')).toEqual([
      `${REPO}: page 1, 100 issues and pull requests (100 so far)`,
      `${REPO}: page 2, 100 issues and pull requests (200 so far)`,
      `${REPO}: page 3, 50 issues and pull requests (250 so far)`,
    ]);
    expect(listRequests(st).map((r) => r.query)).toEqual(
      ['1', '2', '3'].map((page) => ({ state: 'all', sort: 'created', direction: 'asc', per_page: '100', page })),
    );
    const rows = query<{ kind: string; state: string; n: number }>(
      st.db,
      'SELECT kind, state, count(*) AS n FROM similar_threads GROUP BY kind, state ORDER BY kind, state',
    );
    expect(rows).toEqual([
      { kind: 'issue', state: 'closed', n: 75 },
      { kind: 'issue', state: 'open', n: 150 },
      { kind: 'pull_request', state: 'closed', n: 8 },
      { kind: 'pull_request', state: 'open', n: 17 },
    ]);
    expect(query(st.db, `SELECT url FROM similar_threads WHERE number = 20`)).toEqual([
      { url: `https://github.com/${REPO}/pull/20` },
    ]);
  });

  itOn('sqlite', 'the command around the store; similar-store covers the store on both')(
    'continues where a failed run stopped, without reading a finished page again; then picks up new issues',
    async () => {
      const st = await backfillStage(250);
      // Page 2 is refused (a token revoked mid-run; a 5xx would cost Octokit's retries seconds of waiting).
      st.github.failNext({ path: /\/issues$/, query: { page: '2' } }, { status: 401 });
      const failed = await index(st);
      expect(failed.code).toBe(69);
      expect(failed.stdout).toBe('');
      expect(failed.stderr).toContain(`similar index ${REPO}: GitHub 401`);
      expect(failed.stderr).toContain('100 indexed so far; run it again to continue from page 2');
      expect(query(st.db, 'SELECT count(*) AS n FROM similar_threads')).toEqual([{ n: 100 }]);

      const resumed = await index(st);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toBe(`indexed 250 of ${REPO}, pages 2, done\n`);
      expect(pagesAsked(st)).toEqual(['1:200', '2:401', '2:200', '3:200']);
      expect(query(st.db, 'SELECT count(DISTINCT number) AS numbers, count(*) AS n FROM similar_threads')).toEqual([
        { numbers: 250, n: 250 },
      ]);

      // Finished: the next run reads only the last page, which was not full, and finds the issue opened since.
      addIssue(st, 251, 'A brand new report');
      const again = await index(st, '--json');
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toEqual({
        repository: REPO,
        pages: 1,
        read: 51,
        indexed: 251,
        next_page: 3,
        done: true,
      });
      expect(pagesAsked(st).slice(4)).toEqual(['3:200']);
      expect(query(st.db, 'SELECT title FROM similar_threads WHERE number = 251')).toEqual([
        { title: 'A brand new report' },
      ]);

      const restarted = await index(st, '--restart');
      expect(restarted.stdout).toBe(`indexed 251 of ${REPO}, pages 3, done\n`);
      expect(pagesAsked(st).slice(5)).toEqual(['1:200', '2:200', '3:200']);
    },
  );

  itOn('sqlite', 'the command around the store; similar-store covers the store on both')(
    'stops with 75 on a rate limit GitHub asks to wait out, and says how to continue',
    async () => {
      const st = await backfillStage(150);
      const reset = String(Math.floor(Date.now() / 1000) + 3600);
      st.github.failNext(
        { path: /\/issues$/, query: { page: '2' } },
        { status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset } },
      );
      const limited = await index(st);
      expect(limited.code, limited.stderr).toBe(75);
      expect(limited.stderr).toContain('100 indexed so far; run it again to continue from page 2');
      expect(query(st.db, 'SELECT count(*) AS n FROM similar_threads')).toEqual([{ n: 100 }]);
    },
  );

  itOn('sqlite', 'the command around the store; similar-store covers the store on both')(
    'refuses an unconfigured repository (64), a missing token (78) and a missing database (66)',
    async () => {
      s = await stage();
      const unknown = await runHls(['similar', 'index', '--repo', 'someone/else'], { env: s.env });
      expect(unknown.code).toBe(64);
      expect(unknown.stderr).toContain(`--repo someone/else is not a configured repository (configured: ${REPO})`);
      const { GITHUB_TOKEN: _token, ...noToken } = s.env;
      const tokenless = await runHls(['similar', 'index', '--repo', REPO], { env: noToken });
      expect(tokenless.code).toBe(78);
      expect(tokenless.stderr).toContain('similar index needs a GitHub token');
      const missing = await runHls(['similar', 'index', '--repo', REPO], { env: s.env });
      expect(missing.code).toBe(66);
      expect(s.github.requests.filter((r) => r.path.endsWith('/issues'))).toEqual([]);
    },
  );
});

describe('hls similar ID|DELIVERY and --text', () => {
  itOn('sqlite', 'the command around the store; similar-store covers the store on both')(
    "prints the candidates of an event's issue, itself left out, as a table and as JSON",
    async () => {
      s = await stage();
      const store = await openStore(s.db, { create: true });
      await store.similar.indexThreads(
        [
          [1, 'Login fails with 500 after password reset', 'The login page returns HTTP 500 after a reset.'],
          [2, 'Dark mode does not persist', 'Theme goes back to light.'],
          [3, 'Server error signing in once the password was reset', 'Signing in after a password reset gives a 500.'],
        ].map(([number, title, body]) => ({
          repository: REPO,
          number: number as number,
          kind: 'issue' as const,
          title: title as string,
          body: body as string,
          state: number === 1 ? ('closed' as const) : ('open' as const),
          url: `https://github.com/${REPO}/issues/${number}`,
          updated_at: 1,
        })),
      );
      await store.close();
      const id = await queuePayload(s, 'issues', {
        action: 'opened',
        issue: {
          number: 3,
          title: 'Server error signing in once the password was reset',
          body: 'Signing in after a password reset gives a 500.',
          user: { login: 'alice', type: 'User' },
        },
      });

      const table = await runHls(['similar', String(id)], { env: s.env });
      expect(table.code, table.stderr).toBe(0);
      const lines = table.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^#\s+score\s+state\s+title$/);
      expect(lines[1]).toMatch(/^#1\s+0\.\d\d\s+closed\s+Login fails with 500 after password reset$/);
      expect(table.stdout).not.toContain('#3 ');

      const delivery = query<{ delivery_id: string }>(s.db, 'SELECT delivery_id FROM webhook_events')[0]!.delivery_id;
      const json = await runHls(['similar', delivery, '--json', '--limit', '1'], { env: s.env });
      expect(json.code, json.stderr).toBe(0);
      const answer = JSON.parse(json.stdout);
      expect(answer).toMatchObject({ repository: REPO, exclude: 3 });
      expect(answer.matches).toHaveLength(1);
      expect(answer.matches[0]).toMatchObject({
        number: 1,
        kind: 'issue',
        state: 'closed',
        url: `https://github.com/${REPO}/issues/1`,
        body: 'The login page returns HTTP 500 after a reset.',
      });
      expect(answer.matches[0].score).toBeGreaterThan(0);

      const text = await runHls(['similar', '--repo', REPO, '--text', 'dark theme mode', '--json'], { env: s.env });
      expect(JSON.parse(text.stdout).matches.map((m: { number: number }) => m.number)).toEqual([2]);
      const nothing = await runHls(['similar', '--repo', REPO, '--text', '"NEAR(*:) &|!'], { env: s.env });
      expect(nothing.code).toBe(0);
      expect(nothing.stdout).toBe(`no similar issues or pull requests indexed in ${REPO}\n`);
    },
  );

  itOn('sqlite', 'the command around the store; similar-store covers the store on both')(
    'refuses what it cannot search: usage 64, no event 66, an event without an issue 65',
    async () => {
      s = await stage();
      const release = await queuePayload(s, 'release', { action: 'published', release: { tag_name: 'v1' } });
      const cases: [string[], number, string][] = [
        [['similar'], 64, 'an event (ID or DELIVERY) or --repo with --text'],
        [['similar', '1', '--text', 'x'], 64, 'not both'],
        [['similar', '--text', 'x'], 64, '--text needs --repo'],
        [['similar', '999'], 66, 'no event with id or delivery "999"'],
        [['similar', String(release)], 65, `event ${release} (release) is not about an issue or pull request`],
      ];
      for (const [args, code, message] of cases) {
        const result = await runHls(args, { env: s.env });
        expect(result.code, args.join(' ')).toBe(code);
        expect(result.stderr).toContain(message);
      }
    },
  );
});
