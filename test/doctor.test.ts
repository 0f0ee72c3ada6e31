import Database from 'better-sqlite3';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND, itOn } from './helpers/backend.js';
import { query, ROOT, runHls, type RunResult } from './helpers/hls.js';
import { queuePayload, stage, type Stage } from './helpers/pipeline.js';

/** Tests of the SQLite file's own checks: its mode, quick_check, WAL journal, PRAGMA user_version, absence. */
const itOnSqliteFile = itOn('sqlite', 'hls doctor checks of the SQLite file (mode, quick_check, WAL, user_version)');

/** The database checks of hls doctor, in order: the SQLite file has three of its own. */
const DATABASE_CHECKS =
  BACKEND === 'sqlite'
    ? ['database', 'database schema', 'database integrity', 'database journal', 'database mode']
    : ['database', 'database schema'];

const EXAMPLE_HOOKS = join(ROOT, 'examples/webhook/hooks.json');
const WEBHOOK_SECRET = 'whsec-doctor-test-5f1c0e';

let current: Stage | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

/** Both fakes and a config; with `database`, the database file exists (made by a real `hls queue`). */
async function setup(options: { database?: boolean } = {}): Promise<Stage> {
  current = await stage();
  if (options.database !== false)
    await queuePayload(current, 'ping', { zen: 'Keep it logically awesome.', hook_id: 1 });
  return current;
}

const doctor = (env: NodeJS.ProcessEnv, ...args: string[]) => runHls(['doctor', ...args], { env });

/** The environment of a healthy install: config, both keys and the webhook secret. */
const fullEnv = (s: Stage, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...s.env,
  HLS_GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
  ...extra,
});

const lines = (result: RunResult): string[] => result.stdout.trimEnd().split('\n');
const lineOf = (result: RunResult, check: string): string | undefined =>
  lines(result).find((line) => line.slice(5).startsWith(`${check}: `));

/** No secret may appear, whole or in part, in anything the command printed. */
function expectNoSecrets(result: RunResult, ...secrets: string[]): void {
  for (const secret of [...secrets, WEBHOOK_SECRET]) {
    for (const text of [result.stdout, result.stderr]) {
      expect(text).not.toContain(secret);
      // A prefix or suffix of a secret is a leak too.
      expect(text).not.toContain(secret.slice(0, Math.ceil(secret.length * 0.6)));
      expect(text).not.toContain(secret.slice(-Math.ceil(secret.length * 0.6)));
    }
  }
}

function writeHooks(s: Stage, name: string, edit: (text: string) => string): string {
  const path = join(s.dir, name);
  writeFileSync(path, edit(readFileSync(EXAMPLE_HOOKS, 'utf8')));
  return path;
}

describe('hls doctor', () => {
  it('prints one OK line per check and exits 0 on a healthy install', async () => {
    const s = await setup();
    const result = await doctor(fullEnv(s), '--hooks', EXAMPLE_HOOKS);
    expect(result.code).toBe(0);
    expect(lines(result).map((line) => line.slice(0, 5))).toEqual(Array(8 + DATABASE_CHECKS.length).fill('OK   '));
    expect(lines(result).map((line) => line.slice(5, line.indexOf(': ')))).toEqual([
      'config',
      ...DATABASE_CHECKS,
      'github token',
      'repository settings',
      'anthropic key',
      'hooks file',
      'hook github body',
      'hook github output',
      'hook github signature',
    ]);
    expect(lineOf(result, 'config')).toBe(`OK   config: ${s.config} (1 repository)`);
    expect(lineOf(result, 'database schema')).toMatch(/^OK   database schema: version \d+$/);
    if (BACKEND === 'sqlite') {
      expect(lineOf(result, 'database')).toMatch(new RegExp(`^OK   database: ${s.db} \\(.+, writable\\)$`));
      expect(lineOf(result, 'database integrity')).toBe('OK   database integrity: quick_check ok');
      expect(lineOf(result, 'database journal')).toBe('OK   database journal: wal');
      expect(lineOf(result, 'database mode')).toMatch(/^OK   database mode: 0600, owner uid \d+$/);
    } else {
      expect(lineOf(result, 'database')).toBe(`OK   database: ${s.db} (PostgreSQL, reachable)`);
    }
    expect(lineOf(result, 'github token')).toBe(
      `OK   github token: hls-bot (User, scopes: repo) on ${s.github.url}; rate limit 4999/5000 left`,
    );
    expect(lineOf(result, 'anthropic key')).toBe(
      `OK   anthropic key: accepted by ${s.anthropic.url} (model claude-sonnet-5-5)`,
    );

    expect(lineOf(result, 'repository settings')).toBe(
      'OK   repository settings: 1 repository: 0 with a valid .github/hls.yml, 1 without one',
    );

    // Reads only: GET /user, GET /rate_limit and the repository's settings file on GitHub, GET /v1/models
    // on Anthropic, nothing else.
    expect(s.github.requests.map((r) => `${r.method} ${decodeURIComponent(r.path)}`)).toEqual([
      'GET /user',
      'GET /rate_limit',
      'GET /repos/octo-org/widgets/contents/.github/hls.yml',
    ]);
    expect(s.anthropic.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models']);
    expectNoSecrets(result, 'ghp_test', 'sk-ant-test');
  });

  it('reports a wrong GitHub token as a FAIL line with the status, and exits 1', async () => {
    const s = await setup();
    const result = await doctor(fullEnv(s, { GITHUB_TOKEN: 'ghp_wrong_token_0123456789' }));
    expect(result.code).toBe(1);
    expect(lineOf(result, 'github token')).toBe(
      'FAIL github token: GitHub 401 on GET /user: Bad credentials; the token is wrong, expired or revoked: ' +
        'set GITHUB_TOKEN (or github.token) to a valid token',
    );
    // The other checks still ran.
    expect(lineOf(result, 'anthropic key')).toMatch(/^OK   /);
    expect(lineOf(result, 'database')).toMatch(/^OK   /);
    expectNoSecrets(result, 'ghp_wrong_token_0123456789', 'sk-ant-test');
  });

  it('reports a wrong Anthropic key as a FAIL line, and exits 1', async () => {
    const s = await setup();
    const result = await doctor(fullEnv(s, { ANTHROPIC_API_KEY: 'sk-ant-wrong-key-abcdef012345' }));
    expect(result.code).toBe(1);
    expect(lineOf(result, 'anthropic key')).toBe(
      'FAIL anthropic key: Anthropic 401 authentication_error: invalid x-api-key; the key is wrong or revoked: ' +
        'set ANTHROPIC_API_KEY (or claude.api_key) to a valid key',
    );
    expect(lineOf(result, 'github token')).toMatch(/^OK   /);
    expect(s.anthropic.messageCalls()).toEqual([]);
    expectNoSecrets(result, 'ghp_test', 'sk-ant-wrong-key-abcdef012345');
  });

  it('skips the token and key checks when none is configured, and exits 0', async () => {
    const s = await setup();
    const result = await doctor({ HLS_CONFIG: s.config });
    expect(result.code).toBe(0);
    expect(lineOf(result, 'github token')).toMatch(/^SKIP github token: no token \(GITHUB_TOKEN or github\.token\)/);
    expect(lineOf(result, 'anthropic key')).toMatch(
      /^SKIP anthropic key: no key \(ANTHROPIC_API_KEY or claude\.api_key\)/,
    );
    expect(lineOf(result, 'hooks file')).toBe(
      'SKIP hooks file: no --hooks FILE given (e.g. --hooks /etc/webhook/hooks.json)',
    );
    expect(lines(result).filter((line) => line.startsWith('FAIL'))).toEqual([]);
    expect(s.github.requests).toEqual([]);
    expect(s.anthropic.requests).toEqual([]);
  });

  itOnSqliteFile('fails a database that group or others can read, with the chmod to run', async () => {
    const s = await setup();
    chmodSync(s.db, 0o644);
    const result = await doctor(fullEnv(s));
    expect(result.code).toBe(1);
    expect(lineOf(result, 'database mode')).toBe(
      `FAIL database mode: hls.db 0644: group or others may read the stored payloads; run: chmod 600 ${s.db}`,
    );
    expect(statSync(s.db).mode & 0o777).toBe(0o644);
    expectNoSecrets(result, 'ghp_test', 'sk-ant-test');
  });

  itOnSqliteFile('fails a database from a newer hls, and leaves it alone', async () => {
    const s = await setup();
    const version = query<{ user_version: number }>(s.db, 'PRAGMA user_version')[0]!.user_version;
    const db = new Database(s.db);
    db.pragma(`user_version = ${version + 1}`);
    db.close();

    const result = await doctor(fullEnv(s));
    expect(result.code).toBe(1);
    expect(lineOf(result, 'database schema')).toBe(
      `FAIL database schema: version ${version + 1} is newer than this hls supports (${version}): hls refuses to open ` +
        'it; upgrade hls (git pull && npm ci in its directory) or point --db at the right file',
    );
    expect(lineOf(result, 'database')).toMatch(/^OK   /);
    expect(query<{ user_version: number }>(s.db, 'PRAGMA user_version')[0]!.user_version).toBe(version + 1);
  });

  itOnSqliteFile('fails a missing database with a hint, and does not create it', async () => {
    const s = await setup({ database: false });
    const result = await doctor(fullEnv(s));
    expect(result.code).toBe(1);
    expect(lineOf(result, 'database')).toBe(
      `FAIL database: ${s.db} does not exist: hls queue and hls worker create it on first use; if events were ` +
        'already queued, point --db, HLS_DB or database.path at that file',
    );
    for (const check of ['database schema', 'database integrity', 'database journal', 'database mode']) {
      expect(lineOf(result, check)).toBe(`SKIP ${check}: no usable database file`);
    }
    expect(existsSync(s.db)).toBe(false);
  });

  it('reports an invalid config as a FAIL line (not exit 78) and skips what depends on it', async () => {
    const s = await setup();
    writeFileSync(s.config, JSON.stringify({ github: { tokn: '${GITHUB_TOKEN}' } }));
    const result = await doctor(fullEnv(s, { HLS_DB: s.db }), '--hooks', EXAMPLE_HOOKS);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    expect(lineOf(result, 'config')).toBe(`FAIL config: ${s.config}: github: unknown key "tokn"`);
    expect(lineOf(result, 'database')).toMatch(/^OK   /);
    expect(lineOf(result, 'github token')).toBe('SKIP github token: the config did not load');
    expect(lineOf(result, 'anthropic key')).toBe('SKIP anthropic key: the config did not load');
    expect(lineOf(result, 'hook github body')).toMatch(/^OK   /);
    expectNoSecrets(result, 'ghp_test', 'sk-ant-test');
  });

  it('checks the example hooks file despite its template expressions', async () => {
    const s = await setup();
    const result = await doctor({ HLS_CONFIG: s.config }, '--hooks', EXAMPLE_HOOKS);
    expect(result.code).toBe(0);
    expect(lines(result).slice(-4)).toEqual([
      `OK   hooks file: ${EXAMPLE_HOOKS}: 1 hook, checking github; 1 template expression (the relay needs -template)`,
      'OK   hook github body: raw-request-body as HLS_BODY_FILE',
      'OK   hook github output: include-command-output-in-response: the relay waits for hls queue; a failed queue ' +
        "becomes HTTP 500 with hls's error line",
      'OK   hook github signature: payload-hmac-sha256 on X-Hub-Signature-256, secret from $HLS_GITHUB_WEBHOOK_SECRET; ' +
        'wrapped in "or" with trigger-signature-soft-failures: a wrong signature is a rule mismatch (HTTP 403)',
    ]);
  });

  it('fails a hooks file that passes entire-payload instead of the raw body', async () => {
    const s = await setup();
    const hooks = writeHooks(s, 'hooks.json', (text) => text.replace('"raw-request-body"', '"entire-payload"'));
    const result = await doctor({ HLS_CONFIG: s.config }, '--hooks', hooks);
    expect(result.code).toBe(1);
    expect(lineOf(result, 'hook github body')).toMatch(
      /^FAIL hook github body: pass-file-to-command uses entire-payload, which webhook re-serialises: .*"raw-request-body"/,
    );
    expect(lineOf(result, 'hook github signature')).toMatch(/^OK   /);
  });

  it('fails a hooks file without a signature rule or without the command output in the response', async () => {
    const s = await setup();
    const hooks = join(s.dir, 'bare.json');
    writeFileSync(
      hooks,
      JSON.stringify([
        {
          id: 'gh',
          'execute-command': '/opt/hls/examples/webhook/handle-github-event.sh',
          'pass-file-to-command': [{ source: 'raw-request-body', envname: 'HLS_BODY_FILE' }],
          'trigger-rule': { match: { type: 'value', value: 'x', parameter: { source: 'header', name: 'X-Y' } } },
        },
        { id: 'other', 'execute-command': '/usr/local/bin/deploy.sh' },
      ]),
    );
    const result = await doctor({ HLS_CONFIG: s.config }, '--hooks', hooks);
    expect(result.code).toBe(1);
    expect(lineOf(result, 'hooks file')).toBe(`OK   hooks file: ${hooks}: 2 hooks, checking gh`);
    expect(lineOf(result, 'hook gh body')).toBe('OK   hook gh body: raw-request-body as HLS_BODY_FILE');
    expect(lineOf(result, 'hook gh output')).toMatch(
      /^FAIL hook gh output: include-command-output-in-response is not true/,
    );
    expect(lineOf(result, 'hook gh signature')).toMatch(/^FAIL hook gh signature: no payload-hmac-sha256 rule: /);
  });

  itOnSqliteFile('--json prints { ok, checks } with the same verdicts', async () => {
    const s = await setup();
    chmodSync(s.db, 0o640);
    const result = await doctor(fullEnv(s), '--json', '--hooks', EXAMPLE_HOOKS);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      checks: { name: string; status: string; detail: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.checks).toHaveLength(13);
    for (const check of report.checks) {
      expect(Object.keys(check)).toEqual(['name', 'status', 'detail']);
      expect(check.status).toBe(check.name === 'database mode' ? 'fail' : 'ok');
    }
    expect(report.checks.find((c) => c.name === 'database mode')!.detail).toContain(`chmod 600 ${s.db}`);
    expectNoSecrets(result, 'ghp_test', 'sk-ant-test');
  });
});
