// `hls queue`: the contract of DESIGN.md section 2, checked only through the real `bin/hls queue`
// process: its single stdout line, its exit code and the rows it leaves in the database (SQLite or PostgreSQL).
import Database from 'better-sqlite3';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closedPortUrl, startSilentServer } from './helpers/silent.js';
import { BACKEND, describeOn, hasTable, itOn, newDatabase, storeCreated } from './helpers/backend.js';
import { finished, query, ROOT, runHls, startHls, tempDir, type RunResult } from './helpers/hls.js';
import { issuePayload, writeBody } from './helpers/payloads.js';
import { databaseSection } from './helpers/setup.js';
import type { EventRow as StoredEvent } from '../src/store/types.js';
import { SCHEMA_VERSION } from '../src/store/sqlite/migrate.js';

const MAX_BODY_BYTES = 25 * 1024 * 1024;
const SECRET = 'It is a Secret to Everybody';

/** Rows as the queue stores them (the payload is never pruned in these tests). */
type EventRow = StoredEvent & { payload: Buffer };

let deliveryCounter = 0;
/** A fresh, valid delivery id (GitHub sends UUIDs). */
function newDelivery(): string {
  deliveryCounter += 1;
  return `0f4c2a8e-${process.pid.toString(16).padStart(4, '0').slice(-4)}-4000-8000-${deliveryCounter.toString().padStart(12, '0')}`;
}

function sign(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Asserts the relay-facing output: exactly one line on stdout, nothing on stderr. */
function oneLine(result: RunResult): string {
  expect(result.stdout, `stderr: ${result.stderr}`).toMatch(/^[^\n]+\n$/);
  expect(result.stderr).toBe('');
  return result.stdout.slice(0, -1);
}

function expectQueued(result: RunResult, name: string, repository: string): number {
  const line = oneLine(result);
  expect(result.code, line).toBe(0);
  const match = /^queued (\d+) (\S+) (\S+)$/.exec(line);
  expect(match, line).not.toBeNull();
  expect(match![2]).toBe(name);
  expect(match![3]).toBe(repository);
  return Number(match![1]);
}

function expectError(result: RunResult, exitCode: number, message?: RegExp): string {
  const line = oneLine(result);
  expect(line).toMatch(/^error: \S/);
  if (message) expect(line).toMatch(message);
  expect(result.code, line).toBe(exitCode);
  return line;
}

/** Number of stored events; 0 when the database or its schema does not exist. */
function storedCount(db: string): number {
  if (!hasTable(db, 'webhook_events')) return 0;
  return query<{ n: number }>(db, 'SELECT count(*) AS n FROM webhook_events')[0]!.n;
}

function rows(dbPath: string): EventRow[] {
  return query<EventRow>(dbPath, 'SELECT * FROM webhook_events ORDER BY id');
}

/** A temp dir with an issues.opened body file in it, and a new database of the test backend. */
function setup(): { dir: string; db: string; body: Buffer; bodyFile: string } {
  const dir = tempDir('hls-queue-');
  const body = Buffer.from(JSON.stringify(issuePayload(7), null, 2));
  return { dir, db: newDatabase(dir), body, bodyFile: writeBody(dir, 'body.json', body) };
}

function queueArgs(bodyFile: string, delivery = newDelivery(), event = 'issues'): string[] {
  return ['queue', '--event', event, '--delivery', delivery, '--body-file', bodyFile];
}

describe('hls queue stores a delivery', () => {
  it('stores the raw body byte-for-byte with its index columns and one history row', async () => {
    const { db, body, bodyFile } = setup();
    const delivery = newDelivery();
    const before = Date.now();
    const result = await runHls(queueArgs(bodyFile, delivery), { env: { HLS_DB: db } });
    const after = Date.now();

    expect(result.stdout).toMatch(/^queued \d+ issues\.opened octo-org\/widgets\n$/);
    const id = expectQueued(result, 'issues.opened', 'octo-org/widgets');

    const stored = rows(db);
    expect(stored).toHaveLength(1);
    const row = stored[0]!;
    expect(row.id).toBe(id);
    expect(Buffer.isBuffer(row.payload)).toBe(true);
    expect(Buffer.compare(row.payload, body)).toBe(0);
    expect(row.payload_sha256).toBe(sha256(body));
    expect(row.payload_size).toBe(body.length);
    expect(row).toMatchObject({
      delivery_id: delivery,
      event_type: 'issues',
      action: 'opened',
      repository: 'octo-org/widgets',
      thread_key: 'octo-org/widgets#7',
      sender_login: 'alice',
      sender_type: 'User',
      status: 'pending',
      attempts: 0,
      signature: null,
      hook_id: null,
    });
    expect(row.created_at).toBeGreaterThanOrEqual(before);
    expect(row.created_at).toBeLessThanOrEqual(after);
    expect(row.scheduled_at).toBe(row.created_at);

    const history = query(db, 'SELECT event_id, from_status, to_status FROM event_history');
    expect(history).toEqual([{ event_id: id, from_status: null, to_status: 'pending' }]);
  });

  it('answers "duplicate <delivery>" for a delivery id already stored and keeps the first body', async () => {
    const { dir, db, body, bodyFile } = setup();
    const delivery = newDelivery();
    expectQueued(
      await runHls(queueArgs(bodyFile, delivery), { env: { HLS_DB: db } }),
      'issues.opened',
      'octo-org/widgets',
    );

    const otherBody = writeBody(dir, 'other.json', issuePayload(8));
    const again = await runHls(queueArgs(otherBody, delivery), { env: { HLS_DB: db } });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`duplicate ${delivery}\n`);
    expect(again.stderr).toBe('');

    const stored = rows(db);
    expect(stored).toHaveLength(1);
    expect(Buffer.compare(stored[0]!.payload, body)).toBe(0);
    expect(query(db, 'SELECT count(*) AS n FROM event_history')).toEqual([{ n: 1 }]);
  });

  it('accepts event names with digits (projects_v2_item)', async () => {
    const { db, bodyFile } = setup();
    const result = await runHls(queueArgs(bodyFile, newDelivery(), 'projects_v2_item'), { env: { HLS_DB: db } });
    expectQueued(result, 'projects_v2_item.opened', 'octo-org/widgets');
  });

  it('names a ping by its event alone', async () => {
    const { dir, db } = setup();
    const ping = {
      zen: 'Keep it logically awesome.',
      hook_id: 1,
      hook: {},
      repository: { full_name: 'owner/repo', name: 'repo', owner: { login: 'owner' } },
      sender: { login: 'owner', type: 'User' },
    };
    const bodyFile = writeBody(dir, 'ping.json', ping);
    const id = expectQueued(
      await runHls(queueArgs(bodyFile, newDelivery(), 'ping'), { env: { HLS_DB: db } }),
      'ping',
      'owner/repo',
    );
    expect(rows(db)).toEqual([
      expect.objectContaining({ id, event_type: 'ping', action: null, repository: 'owner/repo', thread_key: null }),
    ]);
  });

  it('prints "-" for an event without a repository', async () => {
    const { dir, db } = setup();
    const orgPing = writeBody(dir, 'org-ping.json', {
      zen: 'Design for failure.',
      hook_id: 2,
      hook: {},
      sender: { login: 'o', type: 'User' },
    });
    const id = expectQueued(
      await runHls(queueArgs(orgPing, newDelivery(), 'ping'), { env: { HLS_DB: db } }),
      'ping',
      '-',
    );

    const installation = writeBody(dir, 'installation.json', {
      action: 'created',
      installation: { id: 5 },
      sender: { login: 'octocat', type: 'User' },
    });
    const id2 = expectQueued(
      await runHls(queueArgs(installation, newDelivery(), 'installation'), { env: { HLS_DB: db } }),
      'installation.created',
      '-',
    );
    expect(rows(db).map((row) => [row.id, row.event_type, row.action, row.repository, row.thread_key])).toEqual([
      [id, 'ping', null, null, null],
      [id2, 'installation', 'created', null, null],
    ]);
  });

  it('keys issues and pull requests of one repository by owner/repo#number', async () => {
    const { dir, db } = setup();
    const base = { repository: { full_name: 'octo-org/widgets' }, sender: { login: 'dependabot[bot]', type: 'Bot' } };
    const cases: Array<[string, Record<string, unknown>, string, string | null]> = [
      [
        'issue_comment',
        { action: 'created', issue: { number: 12 }, comment: { id: 1 } },
        'issue_comment.created',
        'octo-org/widgets#12',
      ],
      [
        'pull_request',
        { action: 'opened', number: 13, pull_request: { number: 13 } },
        'pull_request.opened',
        'octo-org/widgets#13',
      ],
      [
        'workflow_run',
        { action: 'completed', workflow_run: { pull_requests: [{ number: 14 }] } },
        'workflow_run.completed',
        'octo-org/widgets#14',
      ],
      ['push', { ref: 'refs/heads/main' }, 'push', null],
    ];
    for (const [event, payload, name, threadKey] of cases) {
      const bodyFile = writeBody(dir, `${event}.json`, { ...payload, ...base });
      const id = expectQueued(
        await runHls(queueArgs(bodyFile, newDelivery(), event), { env: { HLS_DB: db } }),
        name,
        'octo-org/widgets',
      );
      const row = query<EventRow>(db, 'SELECT * FROM webhook_events WHERE id = ?', id)[0]!;
      expect(row.thread_key).toBe(threadKey);
      expect([row.sender_login, row.sender_type]).toEqual(['dependabot[bot]', 'Bot']);
    }
  });
});

describe('hls queue inputs: flag > environment > headers file', () => {
  /** The relay's `entire-headers`: canonicalised names, values as arrays of strings. */
  function headersFile(dir: string, headers: Record<string, string | string[]>, name = 'headers.json'): string {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(headers));
    return path;
  }

  it('takes event and delivery from the flag, then the environment, then the headers file', async () => {
    const { dir, db, body, bodyFile } = setup();
    const [flagDelivery, envDelivery, headerDelivery] = [newDelivery(), newDelivery(), newDelivery()];
    const headers = headersFile(dir, {
      'X-Github-Event': ['pull_request'],
      'X-Github-Delivery': [headerDelivery],
      'X-Github-Hook-Id': ['4242'],
      'Content-Type': ['application/json'],
    });
    const env = { HLS_DB: db, HLS_GH_EVENT: 'issue_comment', HLS_GH_DELIVERY: envDelivery, HLS_HEADERS_FILE: headers };

    // All three set; the body from stdin.
    const viaFlags = await runHls(['queue', '--event', 'issues', '--delivery', flagDelivery, '--body-file', '-'], {
      env,
      input: body,
    });
    expectQueued(viaFlags, 'issues.opened', 'octo-org/widgets');
    // Environment and headers file; the body from HLS_BODY_FILE.
    expectQueued(
      await runHls(['queue'], { env: { ...env, HLS_BODY_FILE: bodyFile } }),
      'issue_comment.opened',
      'octo-org/widgets',
    );
    // Headers file only (named by the flag this time).
    expectQueued(
      await runHls(['queue', '--headers-file', headers, '--body-file', bodyFile], { env: { HLS_DB: db } }),
      'pull_request.opened',
      'octo-org/widgets',
    );

    const stored = rows(db);
    expect(stored.map((row) => [row.delivery_id, row.event_type, row.hook_id])).toEqual([
      [flagDelivery, 'issues', '4242'],
      [envDelivery, 'issue_comment', '4242'],
      [headerDelivery, 'pull_request', '4242'],
    ]);
    for (const row of stored) expect(Buffer.compare(row.payload, body)).toBe(0);
  });

  it('prefers --body-file over HLS_BODY_FILE and reads "-" from stdin byte-exact', async () => {
    const { dir, db, bodyFile } = setup();
    const missing = join(dir, 'no-such-body.json');
    expectQueued(
      await runHls(queueArgs(bodyFile), { env: { HLS_DB: db, HLS_BODY_FILE: missing } }),
      'issues.opened',
      'octo-org/widgets',
    );

    const stdinBody = Buffer.from(`\n  ${JSON.stringify(issuePayload(9, 'octo-org/gears'))}  \r\n`);
    expectQueued(
      await runHls(queueArgs('-'), { env: { HLS_DB: db, HLS_BODY_FILE: missing }, input: stdinBody }),
      'issues.opened',
      'octo-org/gears',
    );
    expect(Buffer.compare(rows(db)[1]!.payload, stdinBody)).toBe(0);
  });

  it('matches header names case-insensitively and takes the first element of an array', async () => {
    const { dir, db, body, bodyFile } = setup();
    const delivery = newDelivery();
    const headers = headersFile(dir, {
      'x-github-event': ['issues', 'push'],
      'X-GITHUB-DELIVERY': [delivery, 'other-delivery'],
      'x-hub-SIGNATURE-256': sign(SECRET, body),
    });
    const result = await runHls(['queue', '--body-file', bodyFile], {
      env: { HLS_DB: db, HLS_HEADERS_FILE: headers, HLS_GITHUB_WEBHOOK_SECRET: SECRET },
    });
    expectQueued(result, 'issues.opened', 'octo-org/widgets');
    expect(rows(db)).toEqual([
      expect.objectContaining({ delivery_id: delivery, event_type: 'issues', signature: sign(SECRET, body) }),
    ]);
  });

  it('takes the signature from the flag, then the environment, then the headers file', async () => {
    const { dir, db, body, bodyFile } = setup();
    const good = sign(SECRET, body);
    const bad = sign('not the secret', body);
    const goodHeaders = headersFile(dir, { 'X-Hub-Signature-256': [good] }, 'good.json');
    const badHeaders = headersFile(dir, { 'X-Hub-Signature-256': [bad] }, 'bad.json');
    const base = { HLS_DB: db, HLS_GITHUB_WEBHOOK_SECRET: SECRET };
    const run = (args: string[], env: NodeJS.ProcessEnv) =>
      runHls([...queueArgs(bodyFile), ...args], { env: { ...base, ...env } });

    expectQueued(
      await run(['--signature', good], { HLS_GH_SIGNATURE: bad, HLS_HEADERS_FILE: badHeaders }),
      'issues.opened',
      'octo-org/widgets',
    );
    expectError(await run(['--signature', bad], { HLS_GH_SIGNATURE: good, HLS_HEADERS_FILE: goodHeaders }), 77);
    expectQueued(
      await run([], { HLS_GH_SIGNATURE: good, HLS_HEADERS_FILE: badHeaders }),
      'issues.opened',
      'octo-org/widgets',
    );
    expectError(await run([], { HLS_GH_SIGNATURE: bad, HLS_HEADERS_FILE: goodHeaders }), 77);
    expectQueued(await run([], { HLS_HEADERS_FILE: goodHeaders }), 'issues.opened', 'octo-org/widgets');
    expect(storedCount(db)).toBe(3);
  });
});

describe('hls queue database path: --db > HLS_DB > config database.path > ./hls.db', () => {
  function config(dir: string, text: string, name = 'hls.yml'): string {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('prefers --db over HLS_DB over the config', async () => {
    const { dir, bodyFile } = setup();
    const [flagDb, envDb, configDb] = ['flag', 'env', 'etc'].map((name) => {
      mkdirSync(join(dir, name));
      return newDatabase(join(dir, name));
    }) as [string, string, string];
    const cfg = config(join(dir, 'etc'), JSON.stringify({ database: databaseSection(configDb) }));

    expectQueued(
      await runHls([...queueArgs(bodyFile), '--db', flagDb, '--config', cfg], { env: { HLS_DB: envDb }, cwd: dir }),
      'issues.opened',
      'octo-org/widgets',
    );
    expect([storedCount(flagDb), storeCreated(envDb), storeCreated(configDb)]).toEqual([1, false, false]);

    expectQueued(
      await runHls([...queueArgs(bodyFile), '--config', cfg], { env: { HLS_DB: envDb }, cwd: dir }),
      'issues.opened',
      'octo-org/widgets',
    );
    expect([storedCount(flagDb), storedCount(envDb), storeCreated(configDb)]).toEqual([1, 1, false]);
  });

  const itOnSqlitePaths = itOn('sqlite', 'database.path and ./hls.db name SQLite files');

  itOnSqlitePaths(
    'resolves a relative database.path against the config file directory, via --config and HLS_CONFIG',
    async () => {
      const { dir, bodyFile } = setup();
      const work = join(dir, 'work');
      mkdirSync(work);
      const cfgA = config(join(dir, 'a'), 'database:\n  path: data/a.db\n');
      const cfgB = config(join(dir, 'b'), 'database:\n  path: b.db\n');
      mkdirSync(join(dir, 'a', 'data'));

      // --config beats HLS_CONFIG.
      expectQueued(
        await runHls([...queueArgs(bodyFile), '--config', cfgA], { env: { HLS_CONFIG: cfgB }, cwd: work }),
        'issues.opened',
        'octo-org/widgets',
      );
      expect([storedCount(join(dir, 'a', 'data', 'a.db')), existsSync(join(dir, 'b', 'b.db'))]).toEqual([1, false]);

      // HLS_CONFIG alone, named relative to the working directory.
      expectQueued(
        await runHls(queueArgs(bodyFile), { env: { HLS_CONFIG: '../b/hls.yml' }, cwd: work }),
        'issues.opened',
        'octo-org/widgets',
      );
      expect(storedCount(join(dir, 'b', 'b.db'))).toBe(1);
      expect(existsSync(join(work, 'b.db'))).toBe(false);
      expect(existsSync(join(work, 'hls.db'))).toBe(false);
    },
  );

  itOnSqlitePaths('falls back to ./hls.db in the working directory', async () => {
    const { dir, bodyFile } = setup();
    expectQueued(await runHls(queueArgs(bodyFile), { cwd: dir }), 'issues.opened', 'octo-org/widgets');
    expect(storedCount(join(dir, 'hls.db'))).toBe(1);
  });

  itOnSqlitePaths(
    'falls back to ./hls.db in the working directory also when the config has no database.path',
    async () => {
      const { dir, bodyFile } = setup();
      mkdirSync(join(dir, 'etc'));
      writeFileSync(join(dir, 'etc', 'hls.yml'), 'logging:\n  level: warn\n');
      const result = await runHls([...queueArgs(bodyFile), '--config', 'etc/hls.yml'], { cwd: dir });
      expectQueued(result, 'issues.opened', 'octo-org/widgets');
      expect(storedCount(join(dir, 'hls.db'))).toBe(1);
      expect(existsSync(join(dir, 'etc', 'hls.db'))).toBe(false);
    },
  );
});

describe('hls queue rejects bad input with its exit code and stores nothing', () => {
  const bad: Array<
    [string, number, (dir: string, bodyFile: string) => { args: string[]; env?: NodeJS.ProcessEnv; input?: Buffer }]
  > = [
    ['no event', 64, (_dir, bodyFile) => ({ args: ['queue', '--delivery', newDelivery(), '--body-file', bodyFile] })],
    ['no delivery', 64, (_dir, bodyFile) => ({ args: ['queue', '--event', 'issues', '--body-file', bodyFile] })],
    ['no body', 64, () => ({ args: ['queue', '--event', 'issues', '--delivery', newDelivery()] })],
    ['an unknown flag', 64, (_dir, bodyFile) => ({ args: [...queueArgs(bodyFile), '--evnt', 'issues'] })],
    ['a positional argument', 64, (_dir, bodyFile) => ({ args: [...queueArgs(bodyFile), 'extra'] })],
    ['a flag without its value', 64, (_dir, bodyFile) => ({ args: [...queueArgs(bodyFile), '--delivery'] })],
    ['a missing body file', 66, (dir) => ({ args: queueArgs(join(dir, 'missing.json')) })],
    ['a body file that is a directory', 66, (dir) => ({ args: queueArgs(dir) })],
    [
      'a missing headers file',
      66,
      (dir, bodyFile) => ({ args: queueArgs(bodyFile), env: { HLS_HEADERS_FILE: join(dir, 'nope.json') } }),
    ],
    ['a body that is not JSON', 65, (dir) => ({ args: queueArgs(writeBody(dir, 'x', 'event=issues&action=opened')) })],
    ['an empty body', 65, (dir) => ({ args: queueArgs(writeBody(dir, 'x', '')) })],
    ['a truncated JSON body', 65, (dir) => ({ args: queueArgs(writeBody(dir, 'x', '{"action":"opened"')) })],
    ['a JSON array', 65, (dir) => ({ args: queueArgs(writeBody(dir, 'x', '[{"action":"opened"}]')) })],
    ['a JSON string', 65, (dir) => ({ args: queueArgs(writeBody(dir, 'x', '"{}"')) })],
    ['a JSON number', 65, (dir) => ({ args: queueArgs(writeBody(dir, 'x', '42')) })],
    ['JSON null', 65, (dir) => ({ args: queueArgs(writeBody(dir, 'x', 'null')) })],
    ['a JSON body on stdin that is an array', 65, () => ({ args: queueArgs('-'), input: Buffer.from('[]') })],
    ['a delivery id with a space', 65, (_dir, bodyFile) => ({ args: queueArgs(bodyFile, 'abc def') })],
    ['a delivery id with a slash', 65, (_dir, bodyFile) => ({ args: queueArgs(bodyFile, '../../etc') })],
    ['a delivery id with a newline', 65, (_dir, bodyFile) => ({ args: queueArgs(bodyFile, 'abc\nqueued 1 x y') })],
    ['a delivery id with non-ASCII', 65, (_dir, bodyFile) => ({ args: queueArgs(bodyFile, 'délivery') })],
    ['a delivery id of 65 characters', 65, (_dir, bodyFile) => ({ args: queueArgs(bodyFile, 'a'.repeat(65)) })],
    [
      'a delivery id from the environment with bad characters',
      65,
      (_dir, bodyFile) => ({
        args: ['queue', '--event', 'issues', '--body-file', bodyFile],
        env: { HLS_GH_DELIVERY: 'x;rm -rf' },
      }),
    ],
    [
      'an event name with a semicolon',
      65,
      (_dir, bodyFile) => ({ args: queueArgs(bodyFile, newDelivery(), 'issues;rm') }),
    ],
    [
      'an event name with a dot',
      65,
      (_dir, bodyFile) => ({ args: queueArgs(bodyFile, newDelivery(), 'issues.opened') }),
    ],
    ['an event name in capitals', 65, (_dir, bodyFile) => ({ args: queueArgs(bodyFile, newDelivery(), 'Issues') })],
    [
      'an event name with a space',
      65,
      (_dir, bodyFile) => ({ args: queueArgs(bodyFile, newDelivery(), 'issue comment') }),
    ],
  ];

  itOn('sqlite', 'bad input is refused before the database is opened').each(bad)(
    '%s → exit %i',
    async (_name, exitCode, make) => {
      const { dir, db, bodyFile } = setup();
      const { args, env, input } = make(dir, bodyFile);
      const result = await runHls(args, { env: { HLS_DB: db, ...env }, input });
      expectError(result, exitCode);
      expect(storedCount(db)).toBe(0);
    },
  );

  it('accepts a delivery id of exactly 64 characters (the bound of the rule above)', async () => {
    const { db, bodyFile } = setup();
    const delivery = `${'A-z9'.repeat(16)}`;
    expectQueued(
      await runHls(queueArgs(bodyFile, delivery), { env: { HLS_DB: db } }),
      'issues.opened',
      'octo-org/widgets',
    );
    expect(rows(db)[0]!.delivery_id).toBe(delivery);
  });

  it('rejects a body of 25 MiB + 1 byte, from a file and from stdin, and accepts exactly 25 MiB', async () => {
    const { dir, db } = setup();
    /** Valid JSON object of exactly `size` bytes, so that only the size can be the reason. */
    const jsonOfSize = (size: number): Buffer => {
      const head = '{"action":"opened","filler":"';
      const tail = '"}';
      const body = Buffer.alloc(size, 0x78);
      body.write(head, 0);
      body.write(tail, size - tail.length);
      return body;
    };
    const tooBig = jsonOfSize(MAX_BODY_BYTES + 1);
    const bigFile = writeBody(dir, 'big.json', tooBig);

    const fromFile = await runHls(queueArgs(bigFile), { env: { HLS_DB: db } });
    expectError(fromFile, 65, /25/);
    expect(storedCount(db)).toBe(0);

    const child = startHls(queueArgs('-'), { env: { HLS_DB: db } });
    child.stdin!.on('error', () => {}); // it may stop reading once over the limit
    expectError(await finished(child, tooBig), 65, /25/);
    expect(storedCount(db)).toBe(0);

    const justFits = jsonOfSize(MAX_BODY_BYTES);
    expectQueued(
      await runHls(queueArgs(writeBody(dir, 'fits.json', justFits)), { env: { HLS_DB: db } }),
      'issues.opened',
      '-',
    );
    const stored = query<{ size: number; sha: string }>(
      db,
      'SELECT payload_size AS size, payload_sha256 AS sha FROM webhook_events',
    );
    expect(stored).toEqual([{ size: MAX_BODY_BYTES, sha: sha256(justFits) }]);
  });
});

describe('hls queue signature re-verification', () => {
  it('with HLS_GITHUB_WEBHOOK_SECRET: missing, wrong, other-body and malformed signatures → 77; correct → 0', async () => {
    const { dir, db, body, bodyFile } = setup();
    const env = { HLS_DB: db, HLS_GITHUB_WEBHOOK_SECRET: SECRET };
    const otherBody = Buffer.from(JSON.stringify(issuePayload(8)));

    expectError(await runHls(queueArgs(bodyFile), { env }), 77, /signature/i);
    expectError(await runHls([...queueArgs(bodyFile), '--signature', sign('wrong secret', body)], { env }), 77);
    expectError(await runHls([...queueArgs(bodyFile), '--signature', sign(SECRET, otherBody)], { env }), 77);
    expectError(await runHls([...queueArgs(bodyFile), '--signature', `sha256=${'0'.repeat(64)}`], { env }), 77);
    expectError(await runHls([...queueArgs(bodyFile), '--signature', 'sha256=abc'], { env }), 77);
    const sha1 = `sha1=${createHmac('sha1', SECRET).update(body).digest('hex')}`;
    expectError(await runHls([...queueArgs(bodyFile), '--signature', sha1], { env }), 77);
    // A body that differs by one trailing byte from what was signed.
    const tampered = writeBody(dir, 'tampered.json', Buffer.concat([body, Buffer.from('\n')]));
    expectError(await runHls([...queueArgs(tampered), '--signature', sign(SECRET, body)], { env }), 77);
    expect(storedCount(db)).toBe(0);

    const delivery = newDelivery();
    const upper = `sha256=${sign(SECRET, body).slice(7).toUpperCase()}`;
    expectQueued(
      await runHls([...queueArgs(bodyFile, delivery), '--signature', upper], { env }),
      'issues.opened',
      'octo-org/widgets',
    );
    expect(rows(db)).toEqual([expect.objectContaining({ delivery_id: delivery, signature: upper })]);
  });

  it('checks the signature before anything is stored, even for a known delivery id', async () => {
    const { db, body, bodyFile } = setup();
    const delivery = newDelivery();
    const env = { HLS_DB: db, HLS_GITHUB_WEBHOOK_SECRET: SECRET };
    expectQueued(
      await runHls([...queueArgs(bodyFile, delivery), '--signature', sign(SECRET, body)], { env }),
      'issues.opened',
      'octo-org/widgets',
    );
    expectError(await runHls(queueArgs(bodyFile, delivery), { env }), 77);
  });

  it('stores a body with invalid UTF-8 inside a JSON string byte-exact when its signature matches', async () => {
    const { dir, db } = setup();
    const body = Buffer.concat([
      Buffer.from('{"action":"opened","issue":{"number":3,"title":"bad '),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(' bytes"},"repository":{"full_name":"octo-org/widgets"},"sender":{"login":"eve","type":"User"}}'),
    ]);
    const bodyFile = writeBody(dir, 'latin.json', body);
    const env = { HLS_DB: db, HLS_GITHUB_WEBHOOK_SECRET: SECRET };
    expectQueued(
      await runHls([...queueArgs(bodyFile), '--signature', sign(SECRET, body)], { env }),
      'issues.opened',
      'octo-org/widgets',
    );
    const row = rows(db)[0]!;
    expect(Buffer.compare(row.payload, body)).toBe(0);
    expect(row.payload_sha256).toBe(sha256(body));
    expect(row.thread_key).toBe('octo-org/widgets#3');

    // The same bytes from stdin.
    const delivery = newDelivery();
    const fromStdin = await runHls([...queueArgs('-', delivery), '--signature', sign(SECRET, body)], {
      env,
      input: body,
    });
    expectQueued(fromStdin, 'issues.opened', 'octo-org/widgets');
    expect(Buffer.compare(rows(db)[1]!.payload, body)).toBe(0);
  });

  it('takes the secret from config github.webhook_secret with ${VAR} interpolation', async () => {
    const { dir, db, body, bodyFile } = setup();
    const cfg = join(dir, 'hls.yml');
    writeFileSync(cfg, 'github:\n  webhook_secret: ${MY_SECRET}\n');
    const env = { HLS_DB: db, HLS_CONFIG: cfg, MY_SECRET: SECRET };
    expectError(await runHls(queueArgs(bodyFile), { env }), 77);
    expectError(await runHls([...queueArgs(bodyFile), '--signature', sign('other', body)], { env }), 77);
    expectQueued(
      await runHls([...queueArgs(bodyFile), '--signature', sign(SECRET, body)], { env }),
      'issues.opened',
      'octo-org/widgets',
    );
    expect(storedCount(db)).toBe(1);
  });

  it('fails closed (77) when github.webhook_secret names an environment variable that is not set', async () => {
    const { dir, db, body, bodyFile } = setup();
    const cfg = join(dir, 'hls.yml');
    writeFileSync(cfg, 'github:\n  webhook_secret: ${MY_UNSET_SECRET}\n');
    const line = expectError(
      await runHls([...queueArgs(bodyFile), '--signature', sign(SECRET, body)], {
        env: { HLS_DB: db, HLS_CONFIG: cfg },
      }),
      77,
    );
    expect(line).toBe('error: github.webhook_secret refers to an environment variable that is not set');
    expect(storedCount(db)).toBe(0);
  });

  it('does not verify when the config sets features.signature_validation: false', async () => {
    const { dir, db, bodyFile } = setup();
    const cfg = join(dir, 'hls.yml');
    writeFileSync(cfg, `github:\n  webhook_secret: "${SECRET}"\nfeatures:\n  signature_validation: false\n`);
    expectQueued(
      await runHls([...queueArgs(bodyFile), '--config', cfg], { env: { HLS_DB: db } }),
      'issues.opened',
      'octo-org/widgets',
    );
    expectQueued(
      await runHls([...queueArgs(bodyFile), '--config', cfg, '--signature', sign('wrong', 'x')], {
        env: { HLS_DB: db },
      }),
      'issues.opened',
      'octo-org/widgets',
    );
    expect(storedCount(db)).toBe(2);
  });

  it('exits 78 naming the key path when the config has an unknown key', async () => {
    const { dir, db, bodyFile } = setup();
    const cfg = join(dir, 'hls.yml');
    writeFileSync(cfg, 'features:\n  signature_validaton: false\n');
    const line = expectError(await runHls([...queueArgs(bodyFile), '--config', cfg], { env: { HLS_DB: db } }), 78);
    expect(line).toContain('features');
    expect(line).toContain('signature_validaton');
    expect(storedCount(db)).toBe(0);

    writeFileSync(cfg, 'database:\n  path: x.db\n  mode: wal\n');
    const nested = expectError(await runHls([...queueArgs(bodyFile), '--config', cfg], { env: { HLS_DB: db } }), 78);
    expect(nested).toMatch(/database[^\n]*mode/);
    expect(storedCount(db)).toBe(0);
  });
});

describeOn('postgres', 'a PostgreSQL server that cannot be reached')('hls queue when PostgreSQL is unavailable', () => {
  const PASSWORD = 'pw-never-printed-4711';
  /** The PostgreSQL URL of a loopback `http://127.0.0.1:PORT` server, with a password. */
  const postgresUrlAt = (httpUrl: string): string => `${httpUrl.replace('http://', `postgres://hls:${PASSWORD}@`)}/hls`;

  it('exits 75 at once when nothing listens on the port, without printing the password', async () => {
    const { bodyFile } = setup();
    const result = await runHls(queueArgs(bodyFile), { env: { HLS_DB: postgresUrlAt(await closedPortUrl()) } });
    expectError(result, 75, /database/);
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  });

  it('exits 75 within the 10 s window when the server accepts and never answers', async () => {
    const { bodyFile } = setup();
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      const result = await runHls(queueArgs(bodyFile), { env: { HLS_DB: postgresUrlAt(silent.url) } });
      expectError(result, 75, /database/);
      expect(result.stdout + result.stderr).not.toContain(PASSWORD);
      expect(silent.connections).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await silent.close();
    }
  }, 20_000);
});

describeOn('sqlite', 'locks and paths of the SQLite file')('hls queue when the database is unavailable', () => {
  it('exits 75 when HLS_DB points into a directory that does not exist', async () => {
    const { dir, bodyFile } = setup();
    const db = join(dir, 'no', 'such', 'dir', 'queue.db');
    expectError(await runHls(queueArgs(bodyFile), { env: { HLS_DB: db } }), 75, /database/);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });

  it('exits 75 within the 10 s window while another process holds an exclusive write lock', async () => {
    const { db, bodyFile } = setup();
    expectQueued(await runHls(queueArgs(bodyFile), { env: { HLS_DB: db } }), 'issues.opened', 'octo-org/widgets');

    const holder = new Database(db);
    try {
      holder.exec('BEGIN EXCLUSIVE');
      const delivery = newDelivery();
      const started = Date.now();
      const result = await runHls(queueArgs(bodyFile, delivery), { env: { HLS_DB: db } });
      const elapsed = Date.now() - started;
      expectError(result, 75, /database/);
      expect(elapsed).toBeGreaterThan(3000); // it waited for the lock ...
      expect(elapsed).toBeLessThan(10_000); // ... but answered inside GitHub's window
      holder.exec('ROLLBACK');
      expect(query(db, 'SELECT count(*) AS n FROM webhook_events WHERE delivery_id = ?', delivery)).toEqual([{ n: 0 }]);
      expect(storedCount(db)).toBe(1);
    } finally {
      if (holder.inTransaction) holder.exec('ROLLBACK');
      holder.close();
    }
  }, 20_000);

  it('waits for a lock that is released within the deadline and then stores', async () => {
    const { db, bodyFile } = setup();
    expectQueued(await runHls(queueArgs(bodyFile), { env: { HLS_DB: db } }), 'issues.opened', 'octo-org/widgets');
    const holder = new Database(db);
    try {
      holder.exec('BEGIN EXCLUSIVE');
      const child = startHls(queueArgs(bodyFile), { env: { HLS_DB: db } });
      const release = setTimeout(() => holder.exec('COMMIT'), 1000);
      const result = await finished(child);
      clearTimeout(release);
      expectQueued(result, 'issues.opened', 'octo-org/widgets');
      expect(storedCount(db)).toBe(2);
    } finally {
      if (holder.inTransaction) holder.exec('ROLLBACK');
      holder.close();
    }
  });

  // KNOWN BUG (reported, not fixed here): on a file not yet in WAL mode, `PRAGMA journal_mode = WAL` in
  // src/store/sqlite/migrate.ts fails with SQLITE_BUSY at once, ignoring busy_timeout (SQLite calls no busy handler
  // when the switch upgrades its read lock to a write lock), while another connection holds the RESERVED
  // lock, which is what a second `hls queue` holds while it converts the same new file.
  // So concurrent first deliveries to a new database can exit 75 at once. The holder below stands in for
  // that second process. Remove `.fails` once migrate retries the switch within the deadline.
  it('waits within the deadline for another process that is creating the same new database', async () => {
    const { db, bodyFile } = setup();
    writeFileSync(db, '', { mode: 0o600 }); // what createPrivateFile leaves for the first opener
    const holder = new Database(db);
    try {
      holder.exec('BEGIN IMMEDIATE'); // RESERVED on a rollback-journal file, as while converting it to WAL
      const child = startHls(queueArgs(bodyFile), { env: { HLS_DB: db } });
      const release = setTimeout(() => holder.exec('COMMIT'), 4000);
      const result = await finished(child);
      clearTimeout(release);
      expectQueued(result, 'issues.opened', 'octo-org/widgets');
      expect(storedCount(db)).toBe(1);
    } finally {
      if (holder.inTransaction) holder.exec('ROLLBACK');
      holder.close();
    }
  });
});

describeOn('sqlite', 'the SQLite file: mode, WAL, user_version')('hls queue database file', () => {
  it('creates a private WAL database at the current schema version', async () => {
    const { db, bodyFile } = setup();
    expectQueued(await runHls(queueArgs(bodyFile), { env: { HLS_DB: db } }), 'issues.opened', 'octo-org/widgets');
    expect(statSync(db).mode & 0o777).toBe(0o600);

    // Keep a connection open so that the -wal and -shm files outlive the next `hls queue`.
    const reader = new Database(db, { readonly: true });
    try {
      expect(reader.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(reader.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expectQueued(await runHls(queueArgs(bodyFile), { env: { HLS_DB: db } }), 'issues.opened', 'octo-org/widgets');
      for (const file of [db, `${db}-wal`, `${db}-shm`]) {
        expect(existsSync(file), file).toBe(true);
        expect((statSync(file).mode & 0o777).toString(8), file).toBe('600');
      }
      expect(reader.prepare('SELECT count(*) AS n FROM webhook_events').get()).toEqual({ n: 2 });
    } finally {
      reader.close();
    }
  });
});

describe('hls queue under concurrency', () => {
  it('50 processes with distinct deliveries on one new database all store', async () => {
    const { db, bodyFile } = setup();
    const deliveries = Array.from({ length: 50 }, () => newDelivery());
    const results = await Promise.all(
      deliveries.map((delivery) => runHls(queueArgs(bodyFile, delivery), { env: { HLS_DB: db } })),
    );

    const ids = results.map((result) => expectQueued(result, 'issues.opened', 'octo-org/widgets'));
    expect(new Set(ids).size).toBe(50);
    const stored = rows(db);
    expect(stored).toHaveLength(50);
    expect(stored.map((row) => row.id).sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(stored.map((row) => row.delivery_id))).toEqual(new Set(deliveries));
    expect(query(db, 'SELECT count(*) AS n FROM event_history')).toEqual([{ n: 50 }]);
    if (BACKEND === 'sqlite') expect(query(db, 'PRAGMA user_version')).toEqual([{ user_version: SCHEMA_VERSION }]);
  }, 40_000);

  it('20 processes with the same delivery id store it once', async () => {
    const { db, bodyFile } = setup();
    // An existing database, so that only the race on the delivery id is under test (see the known bug above).
    const first = expectQueued(
      await runHls(queueArgs(bodyFile), { env: { HLS_DB: db } }),
      'issues.opened',
      'octo-org/widgets',
    );
    const delivery = newDelivery();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => runHls(queueArgs(bodyFile, delivery), { env: { HLS_DB: db } })),
    );

    for (const result of results) {
      oneLine(result);
      expect(result.code, result.stdout).toBe(0);
    }
    const queued = results.filter((result) => result.stdout.startsWith('queued '));
    const duplicates = results.filter((result) => result.stdout === `duplicate ${delivery}\n`);
    expect([queued.length, duplicates.length]).toEqual([1, 19]);
    const stored = rows(db).filter((row) => row.delivery_id === delivery);
    expect(stored).toHaveLength(1);
    expect(storedCount(db)).toBe(2);
    expect(stored[0]!.id).not.toBe(first);
    expect(queued[0]!.stdout).toBe(`queued ${stored[0]!.id} issues.opened octo-org/widgets\n`);
  }, 40_000);
});

describe('hls queue hot path', () => {
  const bundle = join(ROOT, 'dist/bundle/queue.cjs');

  it('bundles better-sqlite3 and none of the heavy modules; requires only yaml and zod (for a config)', () => {
    const text = readFileSync(bundle, 'utf8');
    for (const heavy of ['@octokit', '@anthropic-ai', 'liquidjs', 'consola', 'commander']) {
      expect(text, heavy).not.toContain(heavy);
    }
    expect(text).toContain('node_modules/better-sqlite3/lib/database.js');
    const required = new Set([...text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((match) => match[1]!));
    const packages = [...required]
      .filter((name) => !name.startsWith('node:') && !name.startsWith('.') && !builtinModules.includes(name))
      .sort();
    expect(packages).toEqual(['yaml', 'zod']);
  });

  /** Packages whose files Node loaded, from NODE_DEBUG=module on stderr. */
  function loadedPackages(stderr: string): Set<string> {
    const names = new Set<string>();
    for (const match of stderr.matchAll(/\bload "[^"]*\/node_modules\/((?:@[^/"]+\/)?[^/"]+)\//g)) names.add(match[1]!);
    return names;
  }

  it('loads yaml and zod only when a config is given (NODE_DEBUG=module)', async () => {
    const { dir, db, bodyFile } = setup();
    const plain = await runHls(queueArgs(bodyFile), { env: { HLS_DB: db, NODE_DEBUG: 'module' } });
    expect(plain.code, plain.stdout).toBe(0);
    expect(plain.stdout).toMatch(/^queued \d+ issues\.opened octo-org\/widgets\n$/);
    // better-sqlite3 loads its native addon from node_modules; postgres.js is inside the bundle.
    expect([...loadedPackages(plain.stderr)]).toEqual(BACKEND === 'sqlite' ? ['better-sqlite3'] : []);
    expect(plain.stderr).not.toMatch(/dist\/cli\.js/);

    // Positive control: the same probe does see yaml and zod when the config path is taken.
    const cfg = join(dir, 'hls.yml');
    writeFileSync(cfg, 'features:\n  dry_run: true\n');
    const withConfig = await runHls([...queueArgs(bodyFile), '--config', cfg], {
      env: { HLS_DB: db, NODE_DEBUG: 'module' },
    });
    expect(withConfig.code, withConfig.stdout).toBe(0);
    const loaded = loadedPackages(withConfig.stderr);
    expect(loaded.has('yaml')).toBe(true);
    expect(loaded.has('zod')).toBe(true);
    for (const heavy of ['commander', 'consola', '@octokit', '@anthropic-ai', 'liquidjs'])
      expect(loaded.has(heavy), heavy).toBe(false);
  });
});
