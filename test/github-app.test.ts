// hls as a GitHub App against the loopback GitHub, which verifies each JWT (RS256, iss, iat/exp) and each
// installation token (installation, expiry): triage, token refresh, per-installation pacing, doctor, recover.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { FakeAppOptions, FakeGitHubOptions } from '../src/simulators/github.js';
import { itOn, storeCreated, storedText } from './helpers/backend.js';
import { finished, logEntries, query, runHls, startHls, waitFor, type RunResult } from './helpers/hls.js';
import { issuePayload, writeBody } from './helpers/payloads.js';
import { REPO, seedIssue, stage, TRIAGE, type Stage } from './helpers/pipeline.js';

const APP_ID = 4242;
const SLUG = 'hls-triage';
const BOT = `${SLUG}[bot]`;
const OTHER_REPO = 'octo-org/gadgets';
const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
});
/** The key's base64 body: found nowhere but in the environment. */
const KEY_BODY = privateKey.split('\n').slice(1, -2).join('');

let s: Stage | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** Per test, for the closing note: tokens minted and refreshed, requests per installation. */
const notes: string[] = [];
afterAll(() => {
  if (notes.length > 0) console.info(notes.join('\n'));
});

const repository = (name: string, events = ['issues']) => ({ name, events, labels: { allowed: ['bug'] } });

/** A stage whose fake GitHub serves the App, and whose config is the App's (no token anywhere). */
async function appStage(
  app: Partial<FakeAppOptions> = {},
  options: { github?: FakeGitHubOptions; config?: Record<string, unknown> } = {},
): Promise<Stage> {
  const staged = await stage({
    anthropic: { respond: () => ({ kind: 'json', value: TRIAGE }) },
    github: {
      ...options.github,
      app: { id: APP_ID, slug: SLUG, publicKey, installations: [{ id: 11, repositories: [REPO] }], ...app },
    },
    config: {
      github: { app: { id: APP_ID, private_key: '${HLS_GITHUB_APP_PRIVATE_KEY}' } },
      ...options.config,
    },
  });
  const { GITHUB_TOKEN: _none, ...env } = staged.env;
  staged.env = { ...env, HLS_GITHUB_APP_PRIVATE_KEY: privateKey };
  return staged;
}

let deliveries = 0;
async function queueIssue(
  stage: Stage,
  repo: string,
  number: number,
  delivery = `app-${process.pid}-${++deliveries}`,
): Promise<void> {
  const payload = issuePayload(number, repo);
  seedIssue(stage.github, repo, payload);
  const file = writeBody(stage.dir, `${delivery}.json`, payload);
  const result = await runHls(['queue', '--event', 'issues', '--delivery', delivery, '--body-file', file], {
    env: stage.env,
  });
  expect(result.stdout).toMatch(/^queued \d+ /);
}

/** Who commented on an issue, in order. */
const commenters = (repo: string, number: number) =>
  s!.github
    .repo(repo)
    .issues.get(number)!
    .comments.map((comment) => comment.user);

const statuses = (db: string) =>
  query<{ status: string }>(db, 'SELECT status FROM webhook_events').map((r) => r.status);

/** Neither the private key nor any minted token in the output or the database. */
function expectNoSecrets(stage: Stage, ...results: RunResult[]): void {
  const secrets = [KEY_BODY.slice(0, 64), ...stage.github.mintedTokens.map((minted) => minted.token)];
  const text = results.map((r) => r.stdout + r.stderr).join('') + (storeCreated(stage.db) ? storedText(stage.db) : '');
  for (const secret of secrets) expect(text).not.toContain(secret);
}

function requestsPerInstallation(stage: Stage): string {
  const counts = new Map<string, number>();
  for (const r of stage.github.requests) {
    const who = r.installation !== undefined ? `installation ${r.installation}` : r.jwt ? 'app (JWT)' : 'other';
    counts.set(who, (counts.get(who) ?? 0) + 1);
  }
  return [...counts].map(([who, n]) => `${who}: ${n}`).join(', ');
}

describe('hls as a GitHub App', () => {
  it('triages an issue as the App, refreshing a short-lived token within the event', async () => {
    // 2 s tokens, 600 ms per request: the event outlives its first token.
    s = await appStage({ tokenTtlMs: 2000 }, { github: { latencyMs: 600 } });
    await queueIssue(s, REPO, 7);
    const worker = await runHls(['worker', '--once'], { env: s.env });
    expect(worker.code).toBe(0);
    expect(statuses(s.db)).toEqual(['completed']);

    expect(commenters(REPO, 7)).toEqual([BOT]);
    const comments = s.github.repo(REPO).issues.get(7)!.comments;
    expect(comments[0]!.body).toContain('Noted.');
    const minted = s.github.mintedTokens;
    expect(minted.length).toBeGreaterThanOrEqual(2);
    // Refreshed before expiry: no installation request was refused.
    expect(s.github.requests.filter((r) => r.status === 401)).toEqual([]);
    expect(s.github.requests.filter((r) => r.path === '/app' && r.jwt)).toHaveLength(1);
    expect(s.github.requests.filter((r) => r.path === `/repos/${REPO}/installation` && r.jwt)).toHaveLength(1);
    const repoRequests = s.github.requests.filter((r) => r.path.startsWith(`/repos/${REPO}/issues`));
    expect(repoRequests.length).toBeGreaterThan(0);
    expect(repoRequests.every((r) => r.installation === 11)).toBe(true);
    expectNoSecrets(s, worker);
    notes.push(
      `[github-app] triage as ${BOT}: ${minted.length} tokens minted (${minted.length - 1} refreshed, 2 s TTL), requests: ${requestsPerInstallation(s)}`,
    );
  });

  it("without contents: read the App triages with the operator's settings and says why", async () => {
    s = await appStage({
      installations: [
        { id: 11, repositories: [REPO], permissions: { issues: 'write', pull_requests: 'write', metadata: 'read' } },
      ],
    });
    // A file that would skip every issue event: never read, so never applied.
    s.github.repo(REPO).files.set('.github/hls.yml', 'events: [pull_request]\n');
    await queueIssue(s, REPO, 8);
    const worker = await runHls(['worker', '--once'], { env: s.env });
    expect(worker.code, worker.stderr).toBe(0);
    expect(statuses(s.db)).toEqual(['completed']);
    expect(commenters(REPO, 8)).toEqual([BOT]);
    const refused = s.github.requests.filter((r) => r.status >= 400);
    expect(refused.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `GET /repos/${REPO}/contents/.github%2Fhls.yml 403`,
    ]);
    const warnings = logEntries(worker.stderr).filter((entry) => entry.level === 'warn');
    expect(warnings).toMatchObject([
      {
        msg: `.github/hls.yml of ${REPO} not read: using the operator's settings`,
        error: expect.stringContaining('Contents permission'),
      },
    ]);
    expectNoSecrets(s, worker);
  });

  it('replaces a token GitHub refuses before its time, and the event in hand completes', async () => {
    s = await appStage();
    await queueIssue(s, REPO, 4);
    const worker = startHls(['worker', '--concurrency', '1'], { env: s.env });
    const done = finished(worker);
    const completed = () => statuses(s!.db).filter((status) => status === 'completed').length;
    try {
      await waitFor(() => completed() === 1, 30_000, 'the first event');
      // auth-app itself retries a token younger than 5 s (replication delay); an older one is hls's to replace.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      s.github.revokeTokens();
      await queueIssue(s, REPO, 5);
      await waitFor(() => completed() === 2, 30_000, 'the second event');
    } finally {
      worker.kill('SIGTERM');
    }
    const result = await done;
    expect(s.github.mintedTokens).toHaveLength(2);
    const refused = s.github.requests.filter((r) => r.status === 401);
    expect(refused.map((r) => `${r.method} ${r.path}`)).toHaveLength(1);
    expect(commenters(REPO, 5)).toEqual([BOT]);
    expectNoSecrets(s, result);
  });

  it('paces the writes of two installations independently', async () => {
    // One write per thread allowed a minute, by hls and by the fake: a shared allowance would hold one back.
    const window = { max: 1, seconds: 60 };
    s = await appStage(
      {
        installations: [
          { id: 11, repositories: [REPO] },
          { id: 22, repositories: [OTHER_REPO] },
        ],
      },
      {
        github: { writeLimits: { minIntervalMs: 0, windows: [{ max: window.max, ms: window.seconds * 1000 }] } },
        config: {
          github: {
            app: { id: APP_ID, private_key: '${HLS_GITHUB_APP_PRIVATE_KEY}' },
            pacing: { enabled: true, min_interval_seconds: 0, windows: [window], max_wait_seconds: 1 },
          },
          repositories: [repository(REPO), repository(OTHER_REPO)],
        },
      },
    );
    await queueIssue(s, REPO, 1);
    await queueIssue(s, OTHER_REPO, 2);
    const worker = await runHls(['worker', '--once'], { env: s.env });
    expect(worker.code).toBe(0);
    expect(statuses(s.db)).toEqual(['completed', 'completed']);
    expect(commenters(REPO, 1)).toEqual([BOT]);
    expect(commenters(OTHER_REPO, 2)).toEqual([BOT]);
    expect(s.github.secondaryLimitAnswers).toBe(0);
    const writers = s.github.writes().filter((r) => r.path.startsWith('/repos/'));
    expect(new Set(writers.map((r) => r.installation))).toEqual(new Set([11, 22]));
    const keys = query<{ key: string }>(s.db, 'SELECT DISTINCT key_sha256 AS key FROM github_writes ORDER BY 1');
    expect(keys.map((r) => r.key)).toEqual([`app:${APP_ID}/installation:11`, `app:${APP_ID}/installation:22`]);
    const metrics = await runHls(['stats', '--format', 'prometheus'], { env: s.env });
    for (const installation of [11, 22]) {
      expect(metrics.stdout).toMatch(
        new RegExp(`^hls_ratelimit_remaining\\{.*key="app:${APP_ID}/installation:${installation}"`, 'm'),
      );
    }
    expectNoSecrets(s, worker, metrics);
    notes.push(`[github-app] two installations: ${requestsPerInstallation(s)}`);
  });

  itOn('sqlite', "doctor's App checks ask GitHub; the database is a bystander")(
    'doctor names each permission the installation lacks',
    async () => {
      s = await appStage({
        installations: [{ id: 11, repositories: [REPO], permissions: { issues: 'write', pull_requests: 'read' } }],
      });
      const doctor = await runHls(['doctor', '--json'], { env: s.env });
      const checks = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string; detail: string }[] })
        .checks;
      expect(checks.find((c) => c.name === 'github app')).toMatchObject({
        status: 'ok',
        detail: expect.stringContaining(BOT),
      });
      const installation = checks.filter((c) => c.name === `github app ${REPO}`);
      expect(installation.map((c) => [c.status, c.detail.split(' (')[0]])).toEqual([
        ['fail', 'installation 11 lacks pull_requests: write'],
        ['fail', 'installation 11 lacks metadata: read'],
        ['fail', 'installation 11 lacks actions: read'],
        ['warn', 'installation 11 lacks contents: read'],
      ]);
      expect(installation.at(-1)!.detail).toContain(".github/hls.yml is not read, the operator's settings apply");
      // The settings check meets the refusal GitHub gives such an installation.
      expect(checks.find((c) => c.name === `repository settings ${REPO}`)).toMatchObject({
        status: 'warn',
        detail: expect.stringContaining('Resource not accessible by integration'),
      });
      expect(doctor.code).not.toBe(0);
      expectNoSecrets(s, doctor);
    },
  );

  it("recover redelivers what the App's own webhook log has and the database lacks", async () => {
    const delivery = (id: number, guid: string) => ({
      id,
      guid,
      delivered_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      redelivery: false,
      duration: 0.1,
      status: 'Invalid HTTP Response: 502',
      status_code: 502,
      event: 'issues',
      action: 'opened',
      installation_id: 11,
      repository_id: 1,
    });
    const hook = {
      id: 1,
      config: { url: 'https://hls.example/hooks/github' },
      deliveries: [delivery(1, 'stored-guid'), delivery(2, 'lost-guid')],
    };
    s = await appStage({ hook });
    await queueIssue(s, REPO, 3, 'stored-guid');
    const recover = await runHls(['recover', '--pace-ms', '0'], { env: s.env });
    expect(recover.stderr).toBe('');
    expect(recover.code).toBe(0);
    expect(recover.stdout).toContain(
      `GitHub App ${APP_ID} webhook: 2 deliveries checked, 1 stored, 1 missing, 1 redelivered`,
    );
    expect(hook.deliveries.length).toBe(3);
    const calls = s.github.requests.filter((r) => r.path.startsWith('/app/hook/deliveries'));
    expect(calls.map((r) => [r.method, r.path, r.jwt])).toEqual([
      ['GET', '/app/hook/deliveries', true],
      ['POST', '/app/hook/deliveries/2/attempts', true],
    ]);
    expectNoSecrets(s, recover);
  });

  itOn('sqlite', 'the config is refused before the database is opened')(
    'refuses a token and an App together, or half an App, with one line and 78',
    async () => {
      s = await appStage(
        {},
        { config: { github: { token: 'ghp_x', app: { id: APP_ID, private_key: '${HLS_GITHUB_APP_PRIVATE_KEY}' } } } },
      );
      const both = await runHls(['worker', '--once'], { env: s.env });
      expect(both.code).toBe(78);
      expect(both.stderr).toMatch(/^error: config .*: github: set token or app \(a GitHub App\), not both\n$/);
      const { HLS_GITHUB_APP_PRIVATE_KEY: _unset, ...withoutKey } = s.env;
      await s.close();
      s = await appStage();
      const half = await runHls(['worker', '--once'], { env: { ...withoutKey, HLS_CONFIG: s.config } });
      expect(half.code).toBe(78);
      expect(half.stderr).toMatch(
        /github\.app: set private_key \(e\.g\. \$\{HLS_GITHUB_APP_PRIVATE_KEY\}: is the variable set\?\) or private_key_file\n$/,
      );
    },
  );
});
