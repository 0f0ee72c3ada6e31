import type { IgnoredThread } from '../types.js';
import type { Db } from './open.js';
import { statement } from './statements.js';

export function ignoredThread(db: Db, threadKey: string): IgnoredThread | undefined {
  return statement(
    db,
    `SELECT changed_by AS "by", changed_at AS "at" FROM thread_settings WHERE thread_key = ? AND ignored = 1`,
  ).get(threadKey) as IgnoredThread | undefined;
}

export function setThreadIgnored(db: Db, threadKey: string, ignored: boolean, by: string, now: number): void {
  statement(
    db,
    `INSERT INTO thread_settings (thread_key, ignored, changed_by, changed_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (thread_key) DO UPDATE SET ignored = excluded.ignored, changed_by = excluded.changed_by,
       changed_at = excluded.changed_at`,
  ).run(threadKey, ignored ? 1 : 0, by, now);
}
