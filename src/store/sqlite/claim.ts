import type { Db } from './open.js';
import { writeReturning } from './statements.js';
import type { EventRow } from '../types.js';

/**
 * Atomically takes the next due event and leases it to `worker`. One statement, so concurrent workers in
 * other processes can never claim the same row (SQLite serialises writers). Events of a thread (one
 * issue or pull request) run one at a time, so that two workers never race to create its comment.
 */
export function claimNextEvent(db: Db, worker: string, now: number, leaseMs: number): EventRow | undefined {
  const [claimed] = writeReturning<EventRow>(
    db,
    `UPDATE webhook_events
          SET status = 'processing', locked_by = @worker, locked_until = @leaseUntil,
              started_at = @now, attempts = attempts + 1
        WHERE id = (SELECT due.id FROM webhook_events AS due INDEXED BY webhook_events_due
                     WHERE due.status IN ('pending', 'retry') AND due.scheduled_at <= @now
                       AND (due.thread_key IS NULL OR NOT EXISTS (
                             SELECT 1 FROM webhook_events AS busy
                              WHERE busy.thread_key = due.thread_key AND busy.status = 'processing'))
                     ORDER BY due.priority, due.scheduled_at, due.id
                     LIMIT 1)
       RETURNING *`,
    { worker, now, leaseUntil: now + leaseMs },
  );
  return claimed;
}
