import type { Db } from './open.js';
import { statement } from './statements.js';
import type { EventRow } from './types.js';

/**
 * Atomically takes the next due event and leases it to `worker`. One statement, so concurrent workers in
 * other processes can never claim the same row (SQLite serialises writers).
 */
export function claimNextEvent(db: Db, worker: string, now: number, leaseMs: number): EventRow | undefined {
  return statement(
    db,
    `UPDATE webhook_events
          SET status = 'processing', locked_by = @worker, locked_until = @leaseUntil,
              started_at = @now, attempts = attempts + 1
        WHERE id = (SELECT id FROM webhook_events INDEXED BY webhook_events_due
                     WHERE status IN ('pending', 'retry') AND scheduled_at <= @now
                     ORDER BY priority, scheduled_at, id
                     LIMIT 1)
       RETURNING *`,
  ).get({ worker, now, leaseUntil: now + leaseMs }) as EventRow | undefined;
}
