import { settleAtWorstCase } from './analyses.js';
import type { Db } from './open.js';
import { writeReturning } from './statements.js';
import type { RescuedEvent } from '../types.js';

/**
 * Events whose lease expired (their worker died or hung) go back to the queue, or to failed once they
 * have used all their attempts, so that a crash-looping event cannot take workers down forever. The
 * model calls those attempts left in flight are settled at their worst case in the same transaction.
 */
export function rescueExpiredLeases(db: Db, now: number, maxAttempts: number): RescuedEvent[] {
  return db
    .transaction(() => {
      const rescued = expireLeases(db, now, maxAttempts);
      settleAtWorstCase(db, now);
      return rescued;
    })
    .immediate();
}

function expireLeases(db: Db, now: number, maxAttempts: number): RescuedEvent[] {
  return writeReturning<RescuedEvent>(
    db,
    `UPDATE webhook_events
          SET status = CASE WHEN attempts >= @maxAttempts THEN 'failed' ELSE 'retry' END,
              completed_at = CASE WHEN attempts >= @maxAttempts THEN @now END,
              error_class = 'lease_expired',
              error_message = 'lease held by ' || coalesce(locked_by, '?') || ' expired during attempt ' || attempts,
              scheduled_at = @now, locked_by = NULL, locked_until = NULL
        WHERE status = 'processing' AND locked_until < @now
       RETURNING id, delivery_id, status, attempts`,
    { now, maxAttempts },
  );
}
