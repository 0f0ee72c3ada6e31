import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';
import { isPostgresUrl } from '../../src/store/open-store.js';
import type { EventRow } from '../../src/store/types.js';
import { queryPostgres } from './postgres-sync.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const HLS_BIN = join(ROOT, 'bin/hls');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  cwd?: string;
  /** The argv that runs `command` somewhere else (e.g. a network namespace: Host.command of netns.ts). */
  wrap?: (command: string, args: string[]) => string[];
}

/** The environment a test process gets: no inherited HLS_ or secret variables, plus `extra`. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('HLS_') && !/TOKEN|SECRET|API_KEY/.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Starts `bin/hls` as a real process. */
export function startHls(args: string[], options: RunOptions = {}): ChildProcess {
  const [command, ...argv] = options.wrap?.(process.execPath, [HLS_BIN, ...args]) ?? [
    process.execPath,
    HLS_BIN,
    ...args,
  ];
  return spawn(command!, argv, {
    cwd: options.cwd ?? ROOT,
    env: cleanEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Waits for a started process and collects its output. */
export function finished(child: ChildProcess, input?: string | Buffer): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
    child.stdin!.end(input);
  });
}

/** Runs `bin/hls` to completion. */
export function runHls(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return finished(startHls(args, options), options.input);
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory, removed when the test file is done. */
export function tempDir(prefix = 'hls-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/**
 * Reads rows straight from the database, as an operator with sqlite3 or psql would: `target` is an
 * SQLite file path or a postgres:// URL; `?` placeholders take `params`.
 */
export function query<T = Record<string, unknown>>(target: string, sql: string, ...params: unknown[]): T[] {
  if (isPostgresUrl(target)) return queryPostgres<T>(target, sql, params);
  const db = new Database(target, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** An hls log line on stderr (JSON, one object per line); fields beyond these vary by message. */
export interface LogEntry {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** The JSON log entries of a process's stderr, skipping any other line. */
export const logEntries = (stderr: string): LogEntry[] =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogEntry);

/** One row of webhook_events, as the SQLite file or the PostgreSQL database holds it. */
export const eventRow = (target: string, id: number): EventRow =>
  query<EventRow>(target, 'SELECT * FROM webhook_events WHERE id = ?', id)[0]!;

/** Changes rows straight in the database (`?` placeholders take `params`), as an operator with sqlite3 or psql would. */
export function execute(target: string, sql: string, ...params: unknown[]): void {
  if (isPostgresUrl(target)) {
    queryPostgres(target, sql, params);
    return;
  }
  const db = new Database(target, { fileMustExist: true });
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

/** Polls until `check` returns a truthy value or the timeout passes. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
