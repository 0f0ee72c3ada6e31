import type { Db } from './open.js';
import type { ReplayCandidate, ReplayFilter } from '../types.js';

/** Events matching every given filter; events in flight are never candidates. */
export function selectForReplay(db: Db, filter: ReplayFilter): ReplayCandidate[] {
  const where = [`status != 'processing'`];
  const params: (string | number)[] = [];
  const require = (clause: string, ...values: (string | number)[]): void => {
    where.push(clause);
    params.push(...values);
  };
  if (filter.ids.length > 0) require(`id IN (${filter.ids.map(() => '?').join(', ')})`, ...filter.ids);
  if (filter.status) require('status = ?', filter.status);
  if (filter.since !== undefined) require('created_at >= ?', filter.since);
  if (filter.repository) require('repository = ?', filter.repository);
  if (filter.eventType) require('event_type = ?', filter.eventType);
  return db
    .prepare(
      `SELECT id, delivery_id, event_type, action, repository, status, error_class, error_message, replay_count
         FROM webhook_events WHERE ${where.join(' AND ')} ORDER BY id`,
    )
    .all(...params) as ReplayCandidate[];
}

/**
 * Puts events back to pending with a fresh set of attempts. The last error stays on the row (and in the
 * history) so that the operator can still see why it failed before.
 */
export function requeueEvents(db: Db, ids: number[], now: number): number {
  const requeue = db.prepare(
    `UPDATE webhook_events
        SET status = 'pending', attempts = 0, replay_count = replay_count + 1, scheduled_at = ?,
            started_at = NULL, completed_at = NULL, skip_reason = NULL, locked_by = NULL, locked_until = NULL
      WHERE id = ? AND status != 'processing'`,
  );
  return db.transaction(() => ids.reduce((changed, id) => changed + requeue.run(now, id).changes, 0)).immediate();
}
