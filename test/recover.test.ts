import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FakeDelivery, type FakeHook } from '../src/simulators/github.js';
import { itChecksTheToken, setupGitHub, type GitHubSetup, type GitHubSetupOptions } from './helpers/github-config.js';
import { itOn, storedText } from './helpers/backend.js';
import { query, runHls } from './helpers/hls.js';
import { issuePayload, writeBody } from './helpers/payloads.js';

const WIDGETS = 'octo-org/widgets';
const DOCS = 'octo-org/docs';
const ORG = 'octo-org';
const RELAY = 'https://hooks.example.com/hooks/github';
const HOUR = 3_600_000;

type Setup = GitHubSetup;

async function setup(options: GitHubSetupOptions = {}): Promise<Setup> {
  const s = await setupGitHub('hls-recover-', [{ name: WIDGETS }], options);
  // The relay creates the database with its first delivery; recover only reads it.
  await queued(s, 'unrelated', 999, 'someone/else');
  return s;
}

/** Stores a delivery the way the relay does: `hls queue` with the request's headers. */
async function queued(s: Setup, guid: string, hookId: number, repository = WIDGETS): Promise<void> {
  const body = writeBody(s.dir, `${guid}.json`, issuePayload(1, repository));
  const headers = join(s.dir, `${guid}.headers.json`);
  writeFileSync(
    headers,
    JSON.stringify({ 'X-GitHub-Event': 'issues', 'X-GitHub-Delivery': guid, 'X-GitHub-Hook-ID': String(hookId) }),
  );
  const result = await runHls(['queue', '--body-file', body, '--headers-file', headers], { env: s.env });
  expect(result.stdout).toMatch(/^queued \d+ issues\.opened /);
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A delivery log entry `hoursAgo` hours old; status 200 → "OK". */
function delivery(
  id: number,
  guid: string,
  hoursAgo: number,
  statusCode: number,
  extra: Partial<FakeDelivery> = {},
): FakeDelivery {
  return {
    id,
    guid,
    delivered_at: iso(Date.now() - hoursAgo * HOUR),
    redelivery: false,
    duration: 0.12,
    status:
      statusCode === 0 ? 'failed to connect to host' : statusCode < 300 ? 'OK' : `Invalid HTTP Response: ${statusCode}`,
    status_code: statusCode,
    event: 'issues',
    action: 'opened',
    installation_id: null,
    repository_id: 1,
    ...extra,
  };
}

function hook(id: number, deliveries: FakeDelivery[] = [], extra: Partial<FakeHook> = {}): FakeHook {
  return { id, config: { url: RELAY, content_type: 'json' }, events: ['issues'], deliveries, ...extra };
}

const recover = (s: Setup, ...args: string[]) => runHls(['recover', '--pace-ms', '0', ...args], { env: s.env });
const attempts = (s: Setup) => s.fake.writes().map((w) => `${w.method} ${w.path} ${w.status}`);
const deliveryReads = (s: Setup) => s.fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/deliveries'));

/**
 * The widgets hook's log, oldest first: a stored event (A), one that failed twice (B, 502 and then a
 * manual redelivery, 502 again), one that never connected (C), one GitHub counts as delivered that
 * is not in the database (D), one that failed and was then redelivered successfully (E), a stored
 * one (F), and a failure older than 24 hours (Z).
 */
function widgetsLog(): FakeDelivery[] {
  return [
    delivery(10, 'guid-z', 30, 502),
    delivery(11, 'guid-a', 20, 200),
    delivery(12, 'guid-b', 10, 502, { event: 'pull_request', action: 'synchronize' }),
    delivery(13, 'guid-c', 9, 0, { event: 'push', action: null }),
    delivery(14, 'guid-b', 8, 502, { event: 'pull_request', action: 'synchronize', redelivery: true }),
    delivery(15, 'guid-d', 5, 200),
    delivery(16, 'guid-e', 3, 500),
    delivery(17, 'guid-e', 2, 200, { redelivery: true }),
    delivery(18, 'guid-f', 1, 200),
  ];
}

async function widgetsSetup(options: Parameters<typeof setup>[0] = {}): Promise<Setup> {
  const s = await setup(options);
  s.fake.repo(WIDGETS).hooks.push(hook(101, widgetsLog()));
  for (const guid of ['guid-a', 'guid-e', 'guid-f']) await queued(s, guid, 101);
  return s;
}

describe('hls recover', () => {
  it('redelivers each missing guid once (its latest attempt), oldest first, and skips stored ones', async () => {
    const s = await widgetsSetup();
    const result = await recover(s);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const b = s.fake.repo(WIDGETS).hooks[0]!.deliveries!;
    const at = (id: number) => b.find((d) => d.id === id)!.delivered_at;
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      `redeliver guid-b pull_request.synchronize ${WIDGETS} (delivered ${at(14)}, status 502)`,
      `redeliver guid-c push ${WIDGETS} (delivered ${at(13)}, status 0)`,
      `redeliver guid-d issues.opened ${WIDGETS} (delivered ${at(15)}, status 200)`,
      `${WIDGETS} hook 101: 6 deliveries checked, 3 stored, 3 missing, 3 redelivered`,
    ]);

    // The hook came from the database (no GET /hooks), its log was read with per_page=100.
    expect(s.fake.requests.some((r) => r.path === `/repos/${WIDGETS}/hooks`)).toBe(false);
    expect(deliveryReads(s).map((r) => r.query)).toEqual([{ per_page: '100' }]);
    expect(attempts(s)).toEqual([
      `POST /repos/${WIDGETS}/hooks/101/deliveries/14/attempts 202`,
      `POST /repos/${WIDGETS}/hooks/101/deliveries/13/attempts 202`,
      `POST /repos/${WIDGETS}/hooks/101/deliveries/15/attempts 202`,
    ]);
    const hook101 = s.fake.repo(WIDGETS).hooks[0]!;
    expect(hook101.attempts!.map((a) => a.guid)).toEqual(['guid-b', 'guid-c', 'guid-d']);
    expect(hook101.deliveries!.filter((d) => d.redelivery && d.id > 18).map((d) => d.guid)).toEqual([
      'guid-b',
      'guid-c',
      'guid-d',
    ]);
  });

  it('--dry-run lists what it would redeliver and writes nothing', async () => {
    const s = await widgetsSetup();
    const before = storedText(s.db);
    const result = await recover(s, '--dry-run');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.map((line) => line.split(' ').slice(0, 3).join(' '))).toEqual([
      'would redeliver guid-b',
      'would redeliver guid-c',
      'would redeliver guid-d',
      `${WIDGETS} hook 101:`,
    ]);
    expect(lines[3]).toBe(
      `${WIDGETS} hook 101: 6 deliveries checked, 3 stored, 3 missing, would redeliver 3 (dry run)`,
    );
    expect(s.fake.writes()).toEqual([]);
    expect(storedText(s.db) === before, 'the database is unchanged').toBe(true);
    expect(query(s.db, 'SELECT count(*) AS n FROM webhook_events')).toEqual([{ n: 4 }]);
  });

  it('--since sets the window: older deliveries are checked, and the scan stops at the first older one', async () => {
    const s = await widgetsSetup();
    const wide = await recover(s, '--since', '48h', '--dry-run');
    expect(wide.stdout).toContain('would redeliver guid-z issues.opened');
    expect(wide.stdout).toContain(`${WIDGETS} hook 101: 7 deliveries checked, 3 stored, 4 missing`);

    const narrow = await recover(s, '--since', '4h', '--json');
    expect(narrow.code).toBe(0);
    const report = JSON.parse(narrow.stdout);
    expect(report.dry_run).toBe(false);
    expect(Date.parse(report.since)).toBeGreaterThan(Date.now() - 4 * HOUR - 60_000);
    expect(report.hooks).toEqual([
      {
        scope: 'repository',
        name: WIDGETS,
        hook_id: 101,
        checked: 2,
        stored: 2,
        missing: 0,
        redelivered: 0,
        deliveries: [],
      },
    ]);
    expect(report.unresolved).toEqual([]);
    expect(s.fake.writes()).toEqual([]);
  });

  it('follows the cursor of the link header across pages and stops at the window', async () => {
    const s = await setup();
    // 140 events older than a day, then 230 within the last 23 hours (every 23rd one stored).
    const log: FakeDelivery[] = [];
    for (let i = 0; i < 370; i++) {
      const hoursAgo = i < 140 ? 44 - i / 10 : (369 - i) / 10;
      log.push(delivery(1000 + i, `guid-${i}`, hoursAgo, i % 2 ? 502 : 0));
    }
    s.fake.repo(WIDGETS).hooks.push(hook(7, log));
    const recent = log.slice(140);
    const stored = recent.filter((_, i) => i % 23 === 0);
    for (let i = 0; i < stored.length; i += 8) {
      await Promise.all(stored.slice(i, i + 8).map((d) => queued(s, d.guid, 7)));
    }

    const result = await recover(s, '--repo', WIDGETS, '--hook-id', '7');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(
      `${WIDGETS} hook 7: 230 deliveries checked, 10 stored, 220 missing, 220 redelivered`,
    );
    // Three pages: 100 + 100 + the one where the window ends; its next link is not followed.
    const reads = deliveryReads(s);
    expect(reads.map((r) => r.query)).toEqual([
      { per_page: '100' },
      { per_page: '100', cursor: 'v1_1269' },
      { per_page: '100', cursor: 'v1_1169' },
    ]);
    expect(reads[2]!.status).toBe(200);
    const posted = s.fake.writes().map((w) => Number(w.path.split('/')[7]));
    const expected = recent.filter((d) => !stored.includes(d)).map((d) => d.id);
    expect(posted).toEqual(expected);
    expect(s.fake.writes().every((w) => w.status === 202)).toBe(true);
  });

  it('reads an organisation hook with --org (the active one seen in the database) through the organisation routes', async () => {
    const s = await setup();
    s.fake
      .org(ORG)
      .hooks.push(
        hook(500, [], { active: false, config: { url: 'https://old.example.com/hook' } }),
        hook(502, [delivery(9, 'elsewhere', 1, 502)], { config: { url: 'https://ci.example.com/hook' } }),
        hook(501, [
          delivery(1, 'org-a', 6, 502, { event: 'organization', action: 'member_added', repository_id: null }),
          delivery(2, 'org-b', 5, 200),
          delivery(3, 'org-c', 4, 503, { event: 'issue_comment', action: 'created' }),
        ]),
      );
    await queued(s, 'org-b', 501);
    const result = await recover(s, '--org', ORG);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^redeliver org-a organization\.member_added octo-org \(delivered \S+Z, status 502\)$/);
    expect(lines[1]).toMatch(/^redeliver org-c issue_comment\.created octo-org \(delivered \S+Z, status 503\)$/);
    expect(lines[2]).toBe(`${ORG} hook 501: 3 deliveries checked, 1 stored, 2 missing, 2 redelivered`);
    // Of the two active hooks, the one whose id is in the database.
    expect(s.fake.requests.filter((r) => r.path === `/orgs/${ORG}/hooks`)).toHaveLength(1);
    expect(s.fake.requests.some((r) => r.path.includes('/hooks/502/'))).toBe(false);
    expect(attempts(s)).toEqual([
      `POST /orgs/${ORG}/hooks/501/deliveries/1/attempts 202`,
      `POST /orgs/${ORG}/hooks/501/deliveries/3/attempts 202`,
    ]);
  });

  it('a hook id stored with a repository that is an organisation hook is read through the organisation', async () => {
    const s = await setup({ repositories: [{ name: WIDGETS }, { name: DOCS }] });
    s.fake.repo(WIDGETS);
    s.fake.repo(DOCS);
    s.fake.org(ORG).hooks.push(hook(900, [delivery(1, 'x-1', 2, 502), delivery(2, 'x-2', 1, 200)]));
    await queued(s, 'x-2', 900, WIDGETS);
    await queued(s, 'x-0', 900, DOCS);
    const result = await recover(s);
    expect(result.code).toBe(0);
    // Read once, although both repositories name it.
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^redeliver x-1 issues\.opened octo-org \(delivered .*, status 502\)$/),
      `${ORG} hook 900: 2 deliveries checked, 1 stored, 1 missing, 1 redelivered`,
    ]);
    expect(attempts(s)).toEqual([`POST /orgs/${ORG}/hooks/900/deliveries/1/attempts 202`]);
  });

  it('without a hook in the database uses the only active webhook, and asks for --hook-id when there are several', async () => {
    const s = await setup();
    s.fake.repo(WIDGETS).hooks.push(hook(1, [delivery(1, 'one', 1, 502)]));
    const single = await recover(s, '--dry-run');
    expect(single.code).toBe(0);
    expect(single.stdout).toContain(`${WIDGETS} hook 1: 1 deliveries checked, 0 stored, 1 missing`);
    expect(s.fake.requests.filter((r) => r.path === `/repos/${WIDGETS}/hooks`)).toHaveLength(1);

    s.fake.repo(WIDGETS).hooks.push(hook(2, [], { config: { url: 'https://ci.example.com/hook' } }));
    const ambiguous = await recover(s);
    expect(ambiguous.code).toBe(64);
    expect(ambiguous.stdout).toBe('');
    expect(ambiguous.stderr).toBe(
      `error: ${WIDGETS} has 2 active webhooks (1 ${RELAY}, 2 https://ci.example.com/hook) and none of them appears in the database: choose one with --repo ${WIDGETS} --hook-id ID\n`,
    );
    expect(s.fake.writes()).toEqual([]);

    const chosen = await recover(s, '--repo', WIDGETS, '--hook-id', '1');
    expect(chosen.code).toBe(0);
    expect(attempts(s)).toEqual([`POST /repos/${WIDGETS}/hooks/1/deliveries/1/attempts 202`]);
  });

  it('a stored hook id that is no webhook any more is skipped with a warning, and the webhooks are listed', async () => {
    const s = await setup();
    await queued(s, 'old', 55);
    s.fake.repo(WIDGETS).hooks.push(hook(56, [delivery(1, 'new', 1, 502)]));
    const result = await recover(s);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${WIDGETS} hook 56: 1 deliveries checked, 0 stored, 1 missing, 1 redelivered\n`);
    const warning = JSON.parse(result.stderr.trim());
    expect(warning).toMatchObject({
      level: 'warn',
      msg: `hook 55 seen in the database for ${WIDGETS} is not one of its webhooks any more`,
      hook_id: 55,
    });
    expect(s.fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /repos/${WIDGETS}/hooks/55/deliveries`,
      `GET /orgs/${ORG}/hooks/55/deliveries`,
      `GET /repos/${WIDGETS}/hooks`,
      `GET /repos/${WIDGETS}/hooks/56/deliveries`,
      `POST /repos/${WIDGETS}/hooks/56/deliveries/1/attempts`,
    ]);
  });

  it('a repository without an active webhook is reported and skipped', async () => {
    const s = await setup({ repositories: [{ name: DOCS }, { name: WIDGETS }] });
    s.fake.repo(DOCS);
    s.fake.repo(WIDGETS).hooks.push(hook(3, [delivery(1, 'w', 1, 502)]));
    const result = await recover(s, '--json');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.unresolved).toEqual([
      {
        scope: 'repository',
        name: DOCS,
        reason: 'no active webhook found (if an organisation webhook sends its events, use --org octo-org)',
      },
    ]);
    expect(report.hooks).toHaveLength(1);
    expect(report.hooks[0]).toMatchObject({ name: WIDGETS, hook_id: 3, missing: 1, redelivered: 1 });
    expect(report.hooks[0].deliveries).toEqual([
      {
        guid: 'w',
        delivery_id: 1,
        event: 'issues',
        action: 'opened',
        delivered_at: expect.any(String),
        status_code: 502,
        status: 'Invalid HTTP Response: 502',
        attempts: 1,
        redelivered: true,
      },
    ]);
  });

  it('keeps redeliveries --pace-ms apart', async () => {
    const s = await setup();
    s.fake
      .repo(WIDGETS)
      .hooks.push(hook(4, [delivery(1, 'p1', 3, 502), delivery(2, 'p2', 2, 502), delivery(3, 'p3', 1, 502)]));
    const result = await runHls(['recover', '--pace-ms', '250'], { env: s.env });
    expect(result.code).toBe(0);
    const times = s.fake.writes().map((w) => w.at);
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(240);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(240);
  });

  const itOnArguments = itOn('sqlite', 'the help and argument checks come before the database is read');

  itOnArguments('--pace-ms is not in the help', async () => {
    const s = await setup();
    const help = await runHls(['recover', '--help'], { env: s.env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--hook-id');
    expect(help.stdout).not.toContain('pace');
  });

  itOnArguments('usage errors: --hook-id without a scope, --repo with --org, no repository at all (64)', async () => {
    const s = await setup({ repositories: [] });
    const noScope = await recover(s, '--hook-id', '3');
    expect(noScope.code).toBe(64);
    expect(noScope.stderr).toBe(
      'error: --hook-id needs --repo OWNER/REPO or --org ORG (hook ids belong to one of them)\n',
    );
    expect((await recover(s, '--repo', WIDGETS, '--org', ORG)).code).toBe(64);
    const none = await recover(s);
    expect(none.code).toBe(64);
    expect(none.stderr).toBe(
      'error: no repositories configured (repositories[]): pass --repo OWNER/REPO or --org ORG\n',
    );
    expect(s.fake.requests).toEqual([]);
  });

  itChecksTheToken(widgetsSetup, (s) => recover(s), {
    missing: 'error: recover needs a GitHub token (github.token or GITHUB_TOKEN)\n',
    rejected: new RegExp(
      `^error: recover ${WIDGETS} hook 101: GitHub 401 on GET /repos/${WIDGETS}/hooks/101/deliveries: Bad credentials \\(check the token`,
    ),
  });

  it('a failed redelivery exits 69 after the lines of those already redelivered', async () => {
    const s = await widgetsSetup();
    s.fake.failNext({ method: 'POST', path: /\/deliveries\/13\/attempts$/ }, { status: 422 });
    const result = await recover(s);
    expect(result.code).toBe(69);
    expect(result.stdout).toMatch(/^redeliver guid-b pull_request\.synchronize octo-org\/widgets .*\n$/);
    expect(result.stderr).toBe(
      `error: recover ${WIDGETS} hook 101: GitHub 422 on POST /repos/${WIDGETS}/hooks/101/deliveries/13/attempts: Unprocessable Entity\n`,
    );
    expect(s.fake.writes().map((w) => w.status)).toEqual([202, 422]);
  });
});
