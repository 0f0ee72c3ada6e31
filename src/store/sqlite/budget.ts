import type { Db } from './open.js';
import { statement } from './statements.js';
import type { BudgetLimits, Reservation } from '../types.js';

const COMMITTED = `coalesce(sum(CASE state WHEN 'reserved' THEN reserved_usd WHEN 'settled' THEN actual_usd ELSE 0 END), 0)`;

/** Spend counted against a day: settled calls at their real cost, open reservations at their estimate. */
export function committedUsd(db: Db, day: string, repository?: string): number {
  const sql =
    repository === undefined
      ? `SELECT ${COMMITTED} AS usd FROM budget_reservations WHERE day = ?`
      : `SELECT ${COMMITTED} AS usd FROM budget_reservations WHERE day = ? AND repository = ?`;
  const params = repository === undefined ? [day] : [day, repository];
  return (statement(db, sql).get(...params) as { usd: number }).usd;
}

/**
 * Reserves `amountUsd` for one call if it fits under every limit, atomically across processes
 * (IMMEDIATE: the check and the insert hold the write lock together). Null when it does not fit.
 */
export function reserveBudget(
  db: Db,
  request: { eventId: number; repository: string | null; amountUsd: number; day: string; now: number },
  limits: BudgetLimits,
): Reservation | null {
  return db
    .transaction((): Reservation | null => {
      if (limits.dailyUsd !== undefined && committedUsd(db, request.day) + request.amountUsd > limits.dailyUsd) {
        return null;
      }
      if (
        limits.repositoryUsd !== undefined &&
        request.repository !== null &&
        committedUsd(db, request.day, request.repository) + request.amountUsd > limits.repositoryUsd
      ) {
        return null;
      }
      const id = statement(
        db,
        `INSERT INTO budget_reservations (event_id, day, repository, reserved_usd, state, created_at)
         VALUES (?, ?, ?, ?, 'reserved', ?)`,
      ).run(request.eventId, request.day, request.repository, request.amountUsd, request.now).lastInsertRowid;
      return { id: Number(id), day: request.day };
    })
    .immediate();
}

/** Replaces the estimate with the real cost (which never exceeds it). */
export function settleReservation(db: Db, reservation: Reservation, actualUsd: number, now: number): void {
  statement(
    db,
    `UPDATE budget_reservations SET state = 'settled', actual_usd = ?, settled_at = ? WHERE id = ? AND state = 'reserved'`,
  ).run(actualUsd, now, reservation.id);
}

/** The call was not billed (it failed before an answer): the reservation stops counting. */
export function releaseReservation(db: Db, reservation: Reservation, now: number): void {
  statement(
    db,
    `UPDATE budget_reservations SET state = 'released', actual_usd = 0, settled_at = ? WHERE id = ? AND state = 'reserved'`,
  ).run(now, reservation.id);
}
