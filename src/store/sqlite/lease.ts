import type { Db } from './open.js';
import { statement } from './statements.js';
import type { Lease, Outcome } from '../types.js';

const OWNED = `id = @id AND status = 'processing' AND locked_by = @worker AND attempts = @attempt`;

/** Extends a lease; false means it was lost (expired and taken over), so the work must stop. */
export function extendLease(db: Db, lease: Lease, until: number): boolean {
  return (
    statement(db, `UPDATE webhook_events SET locked_until = @until WHERE ${OWNED}`).run({ ...lease, until }).changes ===
    1
  );
}

/**
 * Puts a claimed event back to wait until `runAt` without counting the attempt: on shutdown, or when a
 * handler defers it (debounce, budget) with a reason that `hls show` displays.
 */
export function returnToQueue(db: Db, lease: Lease, runAt: number, reason: string | null): boolean {
  return (
    statement(
      db,
      `UPDATE webhook_events
            SET status = CASE WHEN attempts > 1 THEN 'retry' ELSE 'pending' END, attempts = attempts - 1,
                scheduled_at = @runAt, wait_reason = @reason, locked_by = NULL, locked_until = NULL
          WHERE ${OWNED}`,
    ).run({ ...lease, runAt, reason }).changes === 1
  );
}

/** Records how a claimed event ended; false if the lease was lost meanwhile (nothing is written then). */
export function finishEvent(db: Db, lease: Lease, outcome: Outcome, now: number): boolean {
  const terminal = outcome.status !== 'retry';
  return (
    statement(
      db,
      `UPDATE webhook_events
            SET status = @status, skip_reason = @skipReason,
                scheduled_at = coalesce(@runAt, scheduled_at), completed_at = @completedAt,
                error_class = coalesce(@errorClass, error_class), error_message = coalesce(@message, error_message),
                wait_reason = NULL, locked_by = NULL, locked_until = NULL
          WHERE ${OWNED}`,
    ).run({
      ...lease,
      status: outcome.status,
      skipReason: outcome.status === 'skipped' ? outcome.reason : null,
      runAt: outcome.status === 'retry' ? outcome.runAt : null,
      completedAt: terminal ? now : null,
      errorClass: 'errorClass' in outcome ? outcome.errorClass : null,
      message: 'message' in outcome ? outcome.message : null,
    }).changes === 1
  );
}
