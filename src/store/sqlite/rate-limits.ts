import type { Db } from './open.js';
import { longestWindowMs, writeWait } from '../pacing.js';
import type { Api, Pause, RateLimitReading, RateLimitRow, WritePacing } from '../types.js';
import { statement } from './statements.js';

export function recordRateLimits(db: Db, api: Api, keySha256: string, readings: RateLimitReading[], now: number): void {
  const insert = statement(
    db,
    `INSERT INTO rate_limit_history (api, key_sha256, resource, limit_value, remaining, used, reset_at, observed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const r of readings) insert.run(api, keySha256, r.resource, r.limit, r.remaining, r.used, r.resetAt, now);
  })();
}

export function latestRateLimit(db: Db, api: Api, keySha256: string, resource: string): RateLimitRow | undefined {
  return statement(
    db,
    `SELECT * FROM rate_limit_history WHERE api = ? AND key_sha256 = ? AND resource = ?
     ORDER BY id DESC LIMIT 1`,
  ).get(api, keySha256, resource) as RateLimitRow | undefined;
}

/** The newest reading of every (api, key, resource). */
export function latestRateLimits(db: Db): RateLimitRow[] {
  return statement(
    db,
    `SELECT h.* FROM rate_limit_history h
     JOIN (SELECT api, key_sha256, resource, max(id) AS id FROM rate_limit_history GROUP BY 1, 2, 3) newest
       ON newest.id = h.id
     ORDER BY h.api, h.resource, h.key_sha256`,
  ).all() as RateLimitRow[];
}

/** Pauses `scope` until `untilAt`, or keeps a longer pause already recorded. */
export function pauseScope(db: Db, scope: string, untilAt: number, reason: string, now: number): void {
  statement(
    db,
    `INSERT INTO api_pauses (scope, until_at, reason, started_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (scope) DO UPDATE SET
       hits = CASE WHEN api_pauses.until_at > excluded.started_at THEN api_pauses.hits + 1 ELSE 1 END,
       started_at = CASE WHEN api_pauses.until_at > excluded.started_at THEN api_pauses.started_at
                         ELSE excluded.started_at END,
       reason = CASE WHEN excluded.until_at >= api_pauses.until_at THEN excluded.reason ELSE api_pauses.reason END,
       until_at = max(api_pauses.until_at, excluded.until_at)`,
  ).run(scope, untilAt, reason, now);
}

export function activePause(db: Db, scope: string, now: number): Pause | undefined {
  return statement(db, `SELECT * FROM api_pauses WHERE scope = ? AND until_at > ?`).get(scope, now) as
    Pause | undefined;
}

export function activePauses(db: Db, now: number): Pause[] {
  return statement(db, `SELECT * FROM api_pauses WHERE until_at > ? ORDER BY scope`).all(now) as Pause[];
}

/**
 * Takes a content-write slot for the token if pacing allows one now (returns 0), else returns how
 * many ms to wait before asking again. Atomic across processes: the clock is read after the IMMEDIATE
 * transaction holds the write lock, so a slot another process took while this one waited is seen.
 */
export function takeWriteSlot(db: Db, keySha256: string, pacing: WritePacing): number {
  const longest = longestWindowMs(pacing);
  return db
    .transaction(() => {
      const now = Date.now();
      statement(db, `DELETE FROM github_writes WHERE key_sha256 = ? AND sent_at <= ?`).run(keySha256, now - longest);
      const wait = writeWaitNow(db, keySha256, pacing, now);
      if (wait === 0)
        statement(db, `INSERT INTO github_writes (key_sha256, sent_at) VALUES (?, ?)`).run(keySha256, now);
      return wait;
    })
    .immediate();
}

/** How long a write would wait for pacing at `now`. */
function writeWaitNow(db: Db, keySha256: string, pacing: WritePacing, now: number): number {
  const sent = statement(db, `SELECT sent_at FROM github_writes WHERE key_sha256 = ? ORDER BY sent_at`)
    .pluck()
    .all(keySha256) as number[];
  return writeWait(sent, pacing, now);
}
