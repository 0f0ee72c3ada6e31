import type { Db } from './open.js';
import type { AnalysisTotals, EventRow, HistoryRow } from '../types.js';

/** Finds an event by numeric id or by delivery id. */
export function findEvent(db: Db, ref: string): EventRow | undefined {
  const byId = /^\d+$/.test(ref)
    ? (db.prepare(`SELECT * FROM webhook_events WHERE id = ?`).get(Number(ref)) as EventRow | undefined)
    : undefined;
  return byId ?? (db.prepare(`SELECT * FROM webhook_events WHERE delivery_id = ?`).get(ref) as EventRow | undefined);
}

export function eventHistory(db: Db, eventId: number): HistoryRow[] {
  return db
    .prepare(
      `SELECT at, from_status, to_status, attempt, worker, error_class, error_message, skip_reason
         FROM event_history WHERE event_id = ? ORDER BY id`,
    )
    .all(eventId) as HistoryRow[];
}

export function analysisTotals(db: Db, eventId: number): AnalysisTotals {
  return db
    .prepare(
      `SELECT coalesce(sum(outcome != 'not_sent'), 0) AS analyses, coalesce(sum(claude_tokens_used), 0) AS tokens,
              coalesce(sum(claude_cost_usd), 0) AS cost_usd
         FROM claude_analyses WHERE webhook_id = ?`,
    )
    .get(eventId) as AnalysisTotals;
}
