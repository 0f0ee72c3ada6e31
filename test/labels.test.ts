import { describe, expect, it } from 'vitest';
import { type FakeLabel } from '../src/simulators/github.js';
import { itChecksTheToken, setupGitHub, type GitHubSetup, type GitHubSetupOptions } from './helpers/github-config.js';
import { storeCreated } from './helpers/backend.js';
import { query, runHls } from './helpers/hls.js';
import { writeBody } from './helpers/payloads.js';

const WIDGETS = 'octo-org/widgets';
const DOCS = 'octo-org/docs';

/** On GitHub before the sync: one matching, one stale, one differing only in case, one not defined. */
const EXISTING: FakeLabel[] = [
  { name: 'bug', color: 'd73a4a', description: 'Something is broken' },
  { name: 'enhancement', color: 'cccccc', description: 'Old text' },
  { name: 'Question', color: 'd876e3', description: null },
  { name: 'wontfix', color: 'ffffff', description: 'This will not be worked on' },
];

/** What the config defines for widgets. */
const DEFINITIONS = [
  { name: 'bug', color: 'D73A4A', description: 'Something is broken' },
  { name: 'enhancement', color: 'a2eeef', description: 'New feature or request' },
  { name: 'question', color: 'd876e3' },
  { name: 'priority: high', color: 'b60205', description: 'Needs attention first' },
  { name: 'good first issue', color: '7057ff' },
];

type Setup = GitHubSetup;

/** With `database` (the default), the queue database exists, made by `hls queue` as on a running install. */
async function setup(options: GitHubSetupOptions = {}, database = true): Promise<Setup> {
  const s = await setupGitHub(
    'hls-labels-',
    [
      { name: WIDGETS, labels: { definitions: DEFINITIONS } },
      { name: DOCS, labels: { definitions: [{ name: 'docs', color: '0075ca', description: 'Documentation' }] } },
    ],
    options,
  );
  s.fake.repo(WIDGETS).labels.push(...EXISTING.map((label) => ({ ...label })));
  s.fake.repo(DOCS).labels.push({ name: 'docs', color: '0075ca', description: null });
  if (database) {
    const body = writeBody(s.dir, 'ping.json', { zen: 'Design for failure.' });
    const queued = await runHls(['queue', '--event', 'ping', '--delivery', 'ping-1', '--body-file', body], {
      env: s.env,
    });
    expect(queued.code).toBe(0);
  }
  return s;
}

const sync = (s: Setup, ...args: string[]) => runHls(['labels', 'sync', ...args], { env: s.env });
const labelsOf = (s: Setup, repo: string) => s.fake.repo(repo).labels.map((label) => ({ ...label }));
const cacheRow = (db: string, repo: string) =>
  query<{ labels_json: string; fetched_at: number }>(
    db,
    'SELECT labels_json, fetched_at FROM label_cache WHERE repository = ?',
    repo,
  )[0];

describe('hls labels sync', () => {
  it('creates missing labels, updates changed ones, leaves the rest alone and never deletes', async () => {
    const s = await setup();
    const before = Date.now();
    const result = await sync(s);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      `create ${WIDGETS} "priority: high" #b60205 Needs attention first`,
      `create ${WIDGETS} "good first issue" #7057ff`,
      `update ${WIDGETS} "enhancement" color #cccccc → #a2eeef, description "Old text" → "New feature or request"`,
      `update ${WIDGETS} "Question" name "Question" → "question"`,
      `ok ${WIDGETS} "bug"`,
      `${WIDGETS}: 2 created, 2 updated, 1 unchanged`,
      `update ${DOCS} "docs" description "" → "Documentation"`,
      `${DOCS}: 0 created, 1 updated, 0 unchanged`,
    ]);

    expect(labelsOf(s, WIDGETS)).toEqual([
      { name: 'bug', color: 'd73a4a', description: 'Something is broken' },
      { name: 'enhancement', color: 'a2eeef', description: 'New feature or request' },
      { name: 'question', color: 'd876e3', description: null },
      { name: 'wontfix', color: 'ffffff', description: 'This will not be worked on' },
      { name: 'priority: high', color: 'b60205', description: 'Needs attention first' },
      { name: 'good first issue', color: '7057ff', description: null },
    ]);

    // Only the difference is written, and nothing is ever deleted.
    const writes = s.fake.writes();
    expect(writes.filter((w) => w.method === 'DELETE')).toEqual([]);
    expect(writes.map((w) => `${w.method} ${decodeURIComponent(w.path)}`)).toEqual([
      `POST /repos/${WIDGETS}/labels`,
      `POST /repos/${WIDGETS}/labels`,
      `PATCH /repos/${WIDGETS}/labels/enhancement`,
      `PATCH /repos/${WIDGETS}/labels/Question`,
      `PATCH /repos/${DOCS}/labels/docs`,
    ]);
    expect(writes[0]!.body).toEqual({ name: 'priority: high', color: 'b60205', description: 'Needs attention first' });
    expect(writes[1]!.body).toEqual({ name: 'good first issue', color: '7057ff' });
    expect(writes[2]!.body).toEqual({ color: 'a2eeef', description: 'New feature or request' });
    expect(writes[3]!.body).toEqual({ new_name: 'question' });
    expect(writes.every((w) => w.status >= 200 && w.status < 300)).toBe(true);

    // The worker's label cache holds the labels as they are now.
    const row = cacheRow(s.db, WIDGETS)!;
    expect(row.fetched_at).toBeGreaterThanOrEqual(before);
    expect(JSON.parse(row.labels_json)).toEqual(labelsOf(s, WIDGETS));
    expect(JSON.parse(cacheRow(s.db, DOCS)!.labels_json)).toEqual([
      { name: 'docs', color: '0075ca', description: 'Documentation' },
    ]);
  });

  it('is idempotent: a second run writes nothing and reports every label as ok', async () => {
    const s = await setup();
    expect((await sync(s)).code).toBe(0);
    const writesAfterFirst = s.fake.writes().length;
    const firstCache = cacheRow(s.db, WIDGETS)!;

    const again = await sync(s);
    expect(again.code).toBe(0);
    expect(s.fake.writes()).toHaveLength(writesAfterFirst);
    const lines = again.stdout.trimEnd().split('\n');
    expect(lines).toContain(`${WIDGETS}: 0 created, 0 updated, 5 unchanged`);
    expect(lines).toContain(`${DOCS}: 0 created, 0 updated, 1 unchanged`);
    expect(lines.filter((line) => line.startsWith('ok '))).toHaveLength(6);
    const secondCache = cacheRow(s.db, WIDGETS)!;
    expect(secondCache.labels_json).toBe(firstCache.labels_json);
    expect(secondCache.fetched_at).toBeGreaterThanOrEqual(firstCache.fetched_at);
  });

  it('--dry-run prints what it would do and writes nothing, not even the database', async () => {
    const s = await setup({}, false);
    const result = await sync(s, '--dry-run');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`would create ${WIDGETS} "priority: high" #b60205 Needs attention first\n`);
    expect(result.stdout).toContain(`would update ${WIDGETS} "enhancement" color #cccccc → #a2eeef`);
    expect(result.stdout).toContain(`${WIDGETS}: would create 2, would update 2, 1 unchanged (dry run)\n`);
    expect(s.fake.writes()).toEqual([]);
    expect(labelsOf(s, WIDGETS)).toEqual(EXISTING);
    expect(storeCreated(s.db)).toBe(false);
  });

  it('without a queue database it syncs the labels and creates none (only queue and worker create it)', async () => {
    const s = await setup({}, false);
    const result = await sync(s, '--repo', DOCS);
    expect(result.code).toBe(0);
    expect(labelsOf(s, DOCS)).toEqual([{ name: 'docs', color: '0075ca', description: 'Documentation' }]);
    expect(storeCreated(s.db)).toBe(false);
  });

  it('--json prints the created, updated and unchanged labels per repository', async () => {
    const s = await setup();
    const result = await sync(s, '--json', '--dry-run');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.dry_run).toBe(true);
    expect(report.repositories.map((r: { repository: string }) => r.repository)).toEqual([WIDGETS, DOCS]);
    expect(report.repositories[0]).toEqual({
      repository: WIDGETS,
      created: [
        { name: 'priority: high', color: 'b60205', description: 'Needs attention first' },
        { name: 'good first issue', color: '7057ff', description: null },
      ],
      updated: [
        {
          name: 'enhancement',
          changes: {
            color: { from: 'cccccc', to: 'a2eeef' },
            description: { from: 'Old text', to: 'New feature or request' },
          },
        },
        { name: 'Question', changes: { name: { from: 'Question', to: 'question' } } },
      ],
      unchanged: ['bug'],
    });

    const written = JSON.parse((await sync(s, '--json')).stdout);
    expect(written.dry_run).toBe(false);
    expect(written.repositories[0].created).toHaveLength(2);
    expect(written.repositories[1]).toEqual({
      repository: DOCS,
      created: [],
      updated: [{ name: 'docs', changes: { description: { from: null, to: 'Documentation' } } }],
      unchanged: [],
    });
  });

  it('--repo syncs only that repository (matched case-insensitively)', async () => {
    const s = await setup();
    const result = await sync(s, '--repo', 'Octo-Org/Docs');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `update ${DOCS} "docs" description "" → "Documentation"\n${DOCS}: 0 created, 1 updated, 0 unchanged\n`,
    );
    expect(s.fake.requests.every((r) => r.path.startsWith(`/repos/${DOCS}/`))).toBe(true);
    expect(labelsOf(s, WIDGETS)).toEqual(EXISTING);
    expect(cacheRow(s.db, WIDGETS)).toBeUndefined();
  });

  it('follows pagination of the repository labels', async () => {
    const s = await setup();
    const extra = Array.from({ length: 150 }, (_, i) => ({ name: `area-${i}`, color: 'eeeeee', description: null }));
    s.fake.repo(WIDGETS).labels.unshift(...extra);
    const result = await sync(s, '--repo', WIDGETS);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${WIDGETS}: 2 created, 2 updated, 1 unchanged`);
    expect(s.fake.requests.filter((r) => r.method === 'GET' && r.path === `/repos/${WIDGETS}/labels`)).toHaveLength(2);
    expect(s.fake.repo(WIDGETS).labels).toHaveLength(150 + EXISTING.length + 2);
    expect(JSON.parse(cacheRow(s.db, WIDGETS)!.labels_json)).toHaveLength(150 + EXISTING.length + 2);
  });

  it('an unconfigured --repo is a usage error (64) and touches nothing', async () => {
    const s = await setup();
    const result = await sync(s, '--repo', 'octo-org/unknown');
    expect(result.code).toBe(64);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('error: --repo octo-org/unknown is not a configured repository (repositories[].name)\n');
    expect(s.fake.requests).toEqual([]);
  });

  itChecksTheToken(setup, (s) => sync(s), {
    missing: 'error: labels sync needs a GitHub token (github.token or GITHUB_TOKEN)\n',
    rejected: `error: labels sync ${WIDGETS}: GitHub 401 on GET /repos/${WIDGETS}/labels: Bad credentials (check the token and its access)\n`,
  });

  it('a repository GitHub does not know exits 69 with 404', async () => {
    const s = await setup({
      repositories: [{ name: 'octo-org/missing', labels: { definitions: [{ name: 'bug' }] } }],
    });
    const result = await sync(s);
    expect(result.code).toBe(69);
    expect(result.stderr).toBe(
      'error: labels sync octo-org/missing: GitHub 404 on GET /repos/octo-org/missing/labels: Not Found (check the token and its access)\n',
    );
  });

  it('a rejected write (422) exits 69, reports what was already written and refreshes the cache with it', async () => {
    const s = await setup();
    s.fake.failNext(
      { method: 'PATCH', path: /\/labels\/enhancement$/ },
      {
        status: 422,
        body: {
          message: 'Validation Failed',
          errors: [{ resource: 'Label', code: 'invalid', field: 'color' }],
          documentation_url: 'https://docs.github.com/rest/issues/labels#update-a-label',
          status: '422',
        },
      },
    );
    const result = await sync(s);
    expect(result.code).toBe(69);
    expect(result.stderr).toBe(
      `error: labels sync ${WIDGETS}: GitHub 422 on PATCH /repos/${WIDGETS}/labels/enhancement: Validation Failed (Label color invalid)\n`,
    );
    expect(result.stdout).toBe(
      [
        `create ${WIDGETS} "priority: high" #b60205 Needs attention first`,
        `create ${WIDGETS} "good first issue" #7057ff`,
        `ok ${WIDGETS} "bug"`,
        '',
      ].join('\n'),
    );
    // The second repository is not attempted after the failure.
    expect(s.fake.requests.some((r) => r.path.startsWith(`/repos/${DOCS}/`))).toBe(false);
    const cached = JSON.parse(cacheRow(s.db, WIDGETS)!.labels_json) as FakeLabel[];
    expect(cached.map((label) => label.name)).toEqual([
      'bug',
      'enhancement',
      'Question',
      'wontfix',
      'priority: high',
      'good first issue',
    ]);
    expect(cached[1]).toEqual({ name: 'enhancement', color: 'cccccc', description: 'Old text' });
  });

  it('rejects a label defined twice for one repository (78)', async () => {
    const s = await setup({
      repositories: [{ name: WIDGETS, labels: { definitions: [{ name: 'bug' }, { name: 'Bug', color: '000000' }] } }],
    });
    const result = await sync(s);
    expect(result.code).toBe(78);
    expect(result.stderr).toBe(
      'error: repositories[0].labels.definitions: label "Bug" is defined twice (names match case-insensitively)\n',
    );
    expect(s.fake.requests).toEqual([]);
  });
});
