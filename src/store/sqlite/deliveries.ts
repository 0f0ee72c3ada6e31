import type { Db } from './open.js';
import { statement } from './statements.js';

/** The delivery ids (GitHub's guids) among `guids` that are stored in webhook_events. */
export function storedDeliveryIds(db: Db, guids: string[]): Set<string> {
  if (guids.length === 0) return new Set();
  const rows = statement(
    db,
    `SELECT delivery_id FROM webhook_events WHERE delivery_id IN (SELECT value FROM json_each(?))`,
  ).all(JSON.stringify(guids)) as { delivery_id: string }[];
  return new Set(rows.map((row) => row.delivery_id));
}

/**
 * The X-GitHub-Hook-ID values of the events stored for a repository (owner/repo, any case), most
 * recently used first.
 */
export function hookIdsForRepository(db: Db, repository: string): number[] {
  const rows = statement(
    db,
    `SELECT hook_id FROM webhook_events
      WHERE lower(repository) = lower(?) AND hook_id IS NOT NULL AND hook_id GLOB '[0-9]*'
      GROUP BY hook_id ORDER BY max(id) DESC`,
  ).all(repository) as { hook_id: string }[];
  return rows.map((row) => Number(row.hook_id)).filter(Number.isSafeInteger);
}

/** Which of `hookIds` appear as X-GitHub-Hook-ID on any stored event. */
export function seenHookIds(db: Db, hookIds: number[]): Set<number> {
  if (hookIds.length === 0) return new Set();
  const rows = statement(
    db,
    `SELECT DISTINCT hook_id FROM webhook_events WHERE hook_id IN (SELECT CAST(value AS TEXT) FROM json_each(?))`,
  ).all(JSON.stringify(hookIds)) as { hook_id: string }[];
  return new Set(rows.map((row) => Number(row.hook_id)));
}
