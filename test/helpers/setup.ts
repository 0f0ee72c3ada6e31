import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPostgresUrl } from '../../src/store/open-store.js';
import { newDatabase } from './backend.js';
import { ROOT, runHls, tempDir } from './hls.js';
import { issuePayload, writeBody } from './payloads.js';

export const SCRIPTED_HANDLER = join(ROOT, 'test/fixtures/handlers/scripted.mjs');

export interface Workspace {
  dir: string;
  db: string;
  config: string;
  effects: string;
  env: NodeJS.ProcessEnv;
}

export interface Settings {
  dir: string;
  /** The SQLite file or the PostgreSQL URL, as `--db` / `HLS_DB` take it. */
  db: string;
  /** The settings.yaml path, for HLS_CONFIG. */
  config: string;
}

/** The config's `database` section for `db`: `url` for PostgreSQL, `path` for an SQLite file. */
export function databaseSection(db: string): { url: string } | { path: string } {
  return isPostgresUrl(db) ? { url: db } : { path: db };
}

/**
 * A fresh temp dir (`prefix`, or the default) with settings.yaml: a new database of the test backend
 * (the SQLite file in that dir), then `settings`.
 */
export function writeSettings(prefix: string | undefined, settings: Record<string, unknown>): Settings {
  const dir = tempDir(prefix);
  const db = newDatabase(dir);
  const config = join(dir, 'settings.yaml');
  writeFileSync(config, JSON.stringify({ database: databaseSection(db), ...settings }));
  return { dir, db, config };
}

/**
 * A temp dir with a config that routes `issues` to the scripted test handler and uses short queue
 * timings. `queue` overrides the queue section.
 */
export function workspace(queue: Record<string, number> = {}): Workspace {
  const { dir, db, config } = writeSettings(undefined, {
    handlers: { issues: SCRIPTED_HANDLER },
    queue: {
      max_attempts: 3,
      backoff_base_seconds: 0.2,
      backoff_max_seconds: 2,
      lease_seconds: 5,
      poll_ms: 50,
      grace_seconds: 5,
      ...queue,
    },
    logging: { format: 'json', level: 'debug' },
  });
  const effects = join(dir, 'effects.log');
  return { dir, db, config, effects, env: { HLS_CONFIG: config, HLS_TEST_EFFECTS: effects } };
}

let counter = 0;

/** Queues an issues.opened event whose payload carries a script for the test handler; returns its id. */
export async function queueIssue(
  ws: Workspace,
  script: Record<string, unknown> = {},
  number = ++counter,
): Promise<number> {
  const delivery = `test-${process.pid}-${++counter}`;
  const body = writeBody(ws.dir, `${delivery}.json`, issuePayload(number, 'octo-org/widgets', { hls_test: script }));
  return queueFile(ws, 'issues', delivery, body);
}

export async function queueFile(ws: Workspace, event: string, delivery: string, bodyFile: string): Promise<number> {
  const result = await runHls(['queue', '--event', event, '--delivery', delivery, '--body-file', bodyFile], {
    env: ws.env,
  });
  const match = /^queued (\d+) /.exec(result.stdout);
  if (result.code !== 0 || !match) throw new Error(`hls queue failed: ${result.code} ${result.stdout}`);
  return Number(match[1]);
}
