import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { query, ROOT, runHls, tempDir } from './helpers/hls.js';
import { writeBody } from './helpers/payloads.js';
import { SCHEMA_VERSION } from '../src/store/sqlite/migrate.js';

/** A database as hls schema version 1 left it, with one stored event. */
function versionOneDatabase(): string {
  const db = join(tempDir(), 'old.db');
  const conn = new Database(db);
  conn.pragma('journal_mode = WAL');
  conn.exec(readFileSync(join(ROOT, 'schema.sql'), 'utf8'));
  conn
    .prepare(
      `INSERT INTO webhook_events (delivery_id, event_type, payload, payload_sha256, payload_size, created_at, scheduled_at)
       VALUES ('old-1', 'issues', x'7b7d', 'x', 2, 1, 1)`,
    )
    .run();
  conn.close();
  return db;
}

/** `hls queue` of a ping (one of the two commands that may migrate the file). */
function queuePing(db: string, delivery: string) {
  const body = writeBody(tempDir(), 'ping.json', { zen: 'Keep it logically awesome.' });
  return runHls(['queue', '--event', 'ping', '--delivery', delivery, '--body-file', body, '--db', db]);
}

describe('schema migrations', () => {
  it('hls queue brings a version 1 file to the current version, keeping its events', async () => {
    const db = versionOneDatabase();
    expect(query(db, 'PRAGMA user_version')).toEqual([{ user_version: 1 }]);
    expect((await queuePing(db, 'new-1')).code).toBe(0);
    const result = await runHls(['stats', '--json', '--db', db]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).queue.total).toBe(2);
    expect(query(db, 'PRAGMA user_version')).toEqual([{ user_version: SCHEMA_VERSION }]);
    const tables = query<{ name: string }>(db, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).map(
      (t) => t.name,
    );
    expect(tables).toEqual(
      expect.arrayContaining([
        'budget_reservations',
        'thread_comments',
        'label_cache',
        'token_identity',
        'thread_settings',
      ]),
    );
    expect(query(db, `SELECT name FROM pragma_table_info('claude_analyses') WHERE name = 'outcome'`)).toHaveLength(1);
  });

  it('ten processes opening the same old file at once migrate it exactly once', async () => {
    const db = versionOneDatabase();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => queuePing(db, `new-${i}`)));
    expect(results.map((r) => r.code)).toEqual(Array(10).fill(0));
    expect(query(db, 'PRAGMA user_version')).toEqual([{ user_version: SCHEMA_VERSION }]);
    expect(query(db, `SELECT count(*) AS n FROM pragma_table_info('claude_analyses') WHERE name = 'outcome'`)).toEqual([
      { n: 1 },
    ]);
  });

  it('refuses a file from a newer hls with exit 78 instead of misreading it', async () => {
    const db = versionOneDatabase();
    const conn = new Database(db);
    conn.pragma('user_version = 99');
    conn.close();
    const result = await runHls(['stats', '--db', db]);
    expect(result.code).toBe(78);
    expect(result.stderr).toBe(
      `error: database schema version 99 is newer than this hls supports (${SCHEMA_VERSION}): upgrade hls\n`,
    );
  });
});
