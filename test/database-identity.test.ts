// In-process, generated files: which SQLite files hls recognises as its own, and that opening a file it
// does not recognise changes nothing in it, whatever its tables, versions and journal mode.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatabaseRefusedError } from '../src/store/errors.js';
import { HLS_APPLICATION_ID, identifyDatabase } from '../src/store/sqlite/identity.js';
import { openDatabase } from '../src/store/sqlite/open.js';
import { tempDir } from './helpers/hls.js';
import { seededRandom, pick } from './helpers/random.js';

const TABLE_NAMES = ['notes', 'users', 'events', 'webhook_events', 'WEBHOOK_EVENTS', 'webhook_events_old', 'workers'];

interface Shape {
  tables: string[];
  extra: 'none' | 'view' | 'index';
  userVersion: number;
  applicationId: number;
  journal: 'delete' | 'wal';
}

function randomShape(random: () => number): Shape {
  // SQLite names are case-insensitive: keep one of webhook_events / WEBHOOK_EVENTS.
  const tables = TABLE_NAMES.filter(() => random() < 0.3).filter(
    (name, index, all) => all.findIndex((other) => other.toLowerCase() === name.toLowerCase()) === index,
  );
  return {
    tables,
    extra: tables.length > 0 ? pick(random, ['none', 'view', 'index'] as const) : 'none',
    userVersion: pick(random, [0, 0, 1, 2, 3, 4, 5, 99, -1, 2 ** 31 - 1]),
    applicationId: pick(random, [0, 0, 0, HLS_APPLICATION_ID, 0x5eed, -7, HLS_APPLICATION_ID + 1]),
    journal: pick(random, ['delete', 'wal'] as const),
  };
}

function makeFile(dir: string, shape: Shape): string {
  const path = join(dir, 'file.db');
  const db = new Database(path);
  db.pragma(`journal_mode = ${shape.journal}`);
  for (const table of shape.tables) db.exec(`CREATE TABLE "${table}" (id INTEGER PRIMARY KEY, value TEXT)`);
  if (shape.extra === 'view') db.exec(`CREATE VIEW everything AS SELECT * FROM "${shape.tables[0]}"`);
  if (shape.extra === 'index') db.exec(`CREATE INDEX by_value ON "${shape.tables[0]}" (value)`);
  db.pragma(`user_version = ${shape.userVersion}`);
  db.pragma(`application_id = ${shape.applicationId}`);
  db.close();
  return path;
}

/** The rule of docs/database.md ("SQLite"), written out independently of the code. */
function expectedOwner(shape: Shape): 'new' | 'hls' | 'foreign' {
  if (shape.applicationId === HLS_APPLICATION_ID) return 'hls';
  if (shape.applicationId !== 0) return 'foreign';
  if (shape.userVersion === 0 && shape.tables.length === 0) return 'new';
  return shape.userVersion >= 1 && shape.tables.includes('webhook_events') ? 'hls' : 'foreign';
}

const snapshot = (path: string) => ({
  sha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
  files: readdirSync(join(path, '..')).sort(),
});

describe('which files are hls’s', () => {
  it('200 generated files: identified by the rule, and a foreign one is refused by every open, byte for byte', () => {
    const seed = Number(process.env.HLS_TEST_SEED ?? 8);
    const random = seededRandom(seed);
    const seen = { new: 0, hls: 0, foreign: 0 };
    for (let i = 0; i < 200; i++) {
      const shape = randomShape(random);
      const path = makeFile(tempDir('hls-identity-'), shape);
      const before = snapshot(path);
      const probe = new Database(path, { readonly: true });
      const { owner } = identifyDatabase(probe);
      probe.close();
      const context = `seed ${seed}, case ${i}: ${JSON.stringify(shape)}`;
      expect(owner, context).toBe(expectedOwner(shape));
      seen[owner]++;
      if (owner === 'foreign') {
        for (const create of [true, false]) {
          expect(() => openDatabase(path, { create }), context).toThrow(DatabaseRefusedError);
          expect(snapshot(path), context).toEqual(before);
        }
      }
    }
    // The generator reaches every kind of file.
    expect(
      Object.values(seen).every((n) => n > 0),
      JSON.stringify(seen),
    ).toBe(true);
  });

  it('a file hls created is hls’s, stamped with its application_id', () => {
    const path = join(tempDir('hls-identity-'), 'hls.db');
    openDatabase(path, { create: true }).close();
    const db = new Database(path, { readonly: true });
    expect(identifyDatabase(db).owner).toBe('hls');
    expect(db.pragma('application_id', { simple: true })).toBe(HLS_APPLICATION_ID);
    db.close();
  });
});
