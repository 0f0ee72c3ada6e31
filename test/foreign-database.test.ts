// Item 3 of issue 8: hls creates or migrates only its own files, and only from hls queue and hls worker;
// another program's file, a broken file and a newer file each get one line and a documented exit code.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HLS_APPLICATION_ID } from '../src/store/sqlite/identity.js';
import { SCHEMA_VERSION } from '../src/store/sqlite/migrate.js';
import { query, ROOT, runHls, tempDir, type RunResult } from './helpers/hls.js';
import { issuePayload, writeBody } from './helpers/payloads.js';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every command that opens the database, with what it needs to get that far (no network is used). */
const READ_COMMANDS: string[][] = [
  ['stats'],
  ['stats', '--format', 'prometheus'],
  ['show', '1'],
  ['render', '1'],
  ['replay', '1'],
  ['prune'],
  ['recover', '--repo', 'octo-org/widgets', '--dry-run'],
];
const WRITE_COMMANDS: string[][] = [['queue'], ['worker', '--once']];

let deliveries = 0;

/** Runs each command on `db` at once (they only read it, or are refused); `hls queue` gets fresh deliveries. */
function runAll(commands: string[][], db: string): Promise<[string[], RunResult][]> {
  return Promise.all(commands.map(async (command) => [command, await run(command, db)] as [string[], RunResult]));
}

/** Runs `command` on `db`; `hls queue` gets a fresh delivery. */
function run(command: string[], db: string): Promise<RunResult> {
  const dir = tempDir('hls-body-');
  const args =
    command[0] === 'queue'
      ? [
          'queue',
          '--event',
          'issues',
          '--delivery',
          `foreign-${++deliveries}`,
          '--body-file',
          writeBody(dir, 'body.json', issuePayload(1)),
        ]
      : command;
  return runHls([...args, '--db', db], { env: { GITHUB_TOKEN: 'ghp_test' } });
}

/**
 * What a command printed besides its JSON logs (the worker logs its start-up warnings before it opens
 * the database): stdout for `hls queue` (the relay's response body), stderr otherwise.
 */
function output(command: string[], result: RunResult): string {
  const text = command[0] === 'queue' ? result.stdout : result.stderr;
  return text
    .split('\n')
    .filter((line) => !line.startsWith('{'))
    .join('\n');
}

/** A notes app's database, in rollback-journal mode, optionally with a user_version of its own. */
function foreignDatabase(userVersion = 0): string {
  const path = join(tempDir('hls-foreign-'), 'notes.db');
  const db = new Database(path);
  db.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes (text) VALUES ('keep me');`);
  db.pragma(`user_version = ${userVersion}`);
  db.close();
  return path;
}

/** A database as hls schema version 1 made it (before application_id), in rollback-journal mode. */
function versionOneDatabase(): string {
  const path = join(tempDir('hls-old-'), 'old.db');
  const db = new Database(path);
  db.exec(readFileSync(join(ROOT, 'schema.sql'), 'utf8'));
  db.close();
  return path;
}

/** A database made by this hls (`hls queue`), holding three events. */
async function hlsDatabase(): Promise<string> {
  const path = join(tempDir('hls-own-'), 'hls.db');
  for (let i = 0; i < 3; i++) expect((await run(['queue'], path)).code).toBe(0);
  return path;
}

function expectUntouched(path: string, before: string): void {
  expect(sha256(path)).toBe(before);
  const dir = readdirSync(join(path, '..'));
  expect(dir.filter((name) => /-(wal|shm|journal)$/.test(name))).toEqual([]);
}

describe('a database that is not hls’s', () => {
  const cases = [
    ['another program’s file', () => foreignDatabase()],
    ['another program’s file whose user_version happens to be 3', () => foreignDatabase(3)],
  ] as const;
  for (const [what, make] of cases) {
    it(`${what}: every command refuses it with one line and exit 78, and leaves it byte for byte`, async () => {
      const path = make();
      const before = sha256(path);
      for (const [command, result] of await runAll([...WRITE_COMMANDS, ...READ_COMMANDS], path)) {
        expect({ command, code: result.code }).toEqual({ command, code: 78 });
        expect(output(command, result)).toBe(
          `error: ${path} is not an hls database (another program's SQLite file?): left untouched; ` +
            'check --db, HLS_DB or database.path\n',
        );
        expectUntouched(path, before);
      }
      expect(query(path, 'SELECT text FROM notes')).toEqual([{ text: 'keep me' }]);
      expect(query(path, 'PRAGMA journal_mode')).toEqual([{ journal_mode: 'delete' }]);
    });
  }

  it('a file that is not SQLite at all is refused with exit 78 and left alone', async () => {
    const path = join(tempDir('hls-text-'), 'notes.txt');
    writeFileSync(path, 'shopping list\n'.repeat(200));
    const before = sha256(path);
    for (const [command, result] of await runAll([...WRITE_COMMANDS, ...READ_COMMANDS], path)) {
      expect({ command, code: result.code }).toEqual({ command, code: 78 });
      expect(output(command, result)).toBe(
        `error: ${path} is not an SQLite database: check --db, HLS_DB or database.path\n`,
      );
      expectUntouched(path, before);
    }
  });
});

describe('an older, a newer, an empty and a missing hls database', () => {
  it('read commands refuse an older schema with a hint and leave it; hls queue upgrades it and stamps it', async () => {
    const path = versionOneDatabase();
    const before = sha256(path);
    for (const [command, result] of await runAll(READ_COMMANDS, path)) {
      expect({ command, code: result.code }).toEqual({ command, code: 78 });
      expect(result.stderr).toBe(
        `error: database ${path} has schema version 1, this hls uses ${SCHEMA_VERSION}: start a worker or run hls queue once to ` +
          'upgrade it\n',
      );
      expectUntouched(path, before);
    }
    expect((await run(['queue'], path)).code).toBe(0);
    expect(query(path, 'PRAGMA user_version')).toEqual([{ user_version: SCHEMA_VERSION }]);
    expect(query(path, 'PRAGMA application_id')).toEqual([{ application_id: HLS_APPLICATION_ID }]);
    expect(query(path, 'PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect((await run(['stats'], path)).code).toBe(0);
  });

  it('a newer schema is exit 78 in every command, hls queue included, and is left alone', async () => {
    const path = await hlsDatabase();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    const before = sha256(path);
    for (const [command, result] of await runAll([...WRITE_COMMANDS, ...READ_COMMANDS], path)) {
      expect({ command, code: result.code }).toEqual({ command, code: 78 });
      expect(output(command, result)).toBe(
        `error: database schema version 99 is newer than this hls supports (${SCHEMA_VERSION}): upgrade hls\n`,
      );
      expect(sha256(path)).toBe(before);
    }
  });

  it('read commands create nothing: a missing or empty file is exit 66; hls queue creates the schema in it', async () => {
    const dir = tempDir('hls-empty-');
    const missing = join(dir, 'missing.db');
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    for (const [file, state] of [
      [missing, 'does not exist'],
      [empty, 'is empty'],
    ] as const) {
      for (const [command, result] of await runAll(READ_COMMANDS, file)) {
        expect({ command, code: result.code }).toEqual({ command, code: 66 });
        expect(result.stderr).toBe(
          `error: database ${file} ${state}: nothing has been queued yet, or pass --db / HLS_DB\n`,
        );
      }
    }
    expect(existsSync(missing)).toBe(false);
    expect(readFileSync(empty)).toHaveLength(0);
    expect((await run(['queue'], empty)).stdout).toMatch(/^queued 1 issues\.opened /);
    expect(query(empty, 'PRAGMA application_id')).toEqual([{ application_id: HLS_APPLICATION_ID }]);
  });
});

describe('a database with corrupted pages', () => {
  /** Overwrites the page that holds the events with garbage, past the file header. */
  async function corruptDatabase(): Promise<string> {
    const good = await hlsDatabase();
    const path = join(tempDir('hls-corrupt-'), 'hls.db');
    copyFileSync(good, path);
    const [{ rootpage }] = query<{ rootpage: number }>(
      path,
      `SELECT rootpage FROM sqlite_schema WHERE name = 'webhook_events'`,
    ) as [{ rootpage: number }];
    const [{ page_size }] = query<{ page_size: number }>(path, 'PRAGMA page_size') as [{ page_size: number }];
    const bytes = readFileSync(path);
    bytes.fill(0xa5, (rootpage - 1) * page_size, rootpage * page_size);
    writeFileSync(path, bytes);
    return path;
  }

  it('every command gives one error line and exit 74; doctor reports it through quick_check', async () => {
    const path = await corruptDatabase();
    for (const [command, result] of await runAll([...WRITE_COMMANDS, ...READ_COMMANDS], path)) {
      expect({ command, code: result.code }).toEqual({ command, code: 74 });
      expect(output(command, result)).toMatch(
        /^error: database (\S+ )?is corrupt \(SQLITE_CORRUPT: database disk image is malformed\): stop the workers, run hls doctor, restore the file from a backup\n$/,
      );
    }
    const doctor = await runHls(['doctor', '--db', path]);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(
      'FAIL database integrity: quick_check found corruption (SQLITE_CORRUPT database disk image is malformed): ' +
        "stop the workers and restore the file from a backup (or try sqlite3's .recover into a new file)\n",
    );
    const healthy = await runHls(['doctor', '--db', await hlsDatabase()]);
    expect(healthy.stdout).toContain('OK   database integrity: quick_check ok\n');
  });
});
