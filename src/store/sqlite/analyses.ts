import type { Db } from './open.js';
import { statement } from './statements.js';
import type {
  CallCount,
  CallResult,
  Checkpoint,
  EventRow,
  LedgerEntry,
  NewAnalysis,
  SentCall,
  ThreadEntry,
} from '../types.js';

type At = { now: number };

/** A ledger row written whole: a prompt recorded without being sent. */
export function recordAnalysis(db: Db, a: NewAnalysis & At): number {
  const tokens = a.inputTokens + a.outputTokens + a.cacheWriteTokens + a.cacheReadTokens;
  return Number(
    statement(
      db,
      `INSERT INTO claude_analyses (webhook_id, event_type, repository, model, template, claude_prompt, claude_response,
         outcome, analysis_json, claude_tokens_used, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens,
         claude_cost_usd, processing_time_ms, replay_generation, request_id, similar_offered, created_at)
       VALUES (@eventId, @eventType, @repository, @model, @template, @prompt, @response,
         @outcome, @analysisJson, @tokens, @inputTokens, @outputTokens, @cacheWriteTokens, @cacheReadTokens,
         @costUsd, @processingMs, @replayGeneration, @requestId, @similarOffered, @now)`,
    ).run({ ...a, similarOffered: a.similarOffered ?? null, tokens }).lastInsertRowid,
  );
}

/** The ledger row of a call about to be sent, so that a call cut by a crash is still on record. */
export function recordSentCall(db: Db, call: SentCall & At): number {
  return Number(
    statement(
      db,
      `INSERT INTO claude_analyses (webhook_id, event_type, repository, model, template, claude_prompt, outcome,
         claude_cost_usd, reserved_usd, attempt, reservation_id, replay_generation, similar_offered, created_at)
       VALUES (@eventId, @eventType, @repository, @model, @template, @prompt, 'sent',
         @reservedUsd, @reservedUsd, @attempt, @reservationId, @replayGeneration, @similarOffered, @now)`,
    ).run({ ...call, similarOffered: call.similarOffered ?? null }).lastInsertRowid,
  );
}

/** The answer arrived: its tokens, real cost and outcome replace the worst case (even after a rescue). */
export function settleCall(db: Db, id: number, r: CallResult & At): void {
  const tokens = r.inputTokens + r.outputTokens + r.cacheWriteTokens + r.cacheReadTokens;
  statement(
    db,
    `UPDATE claude_analyses
        SET claude_response = @response, outcome = @outcome, analysis_json = @analysisJson, claude_tokens_used = @tokens,
            input_tokens = @inputTokens, output_tokens = @outputTokens, cache_write_tokens = @cacheWriteTokens,
            cache_read_tokens = @cacheReadTokens, claude_cost_usd = @costUsd, processing_time_ms = @processingMs,
            request_id = @requestId, settled_at = @now
      WHERE id = @id`,
  ).run({ ...r, tokens, id });
}

/** The API refused the request (an HTTP error): nothing was billed, so the call leaves no row. */
export function dropUnbilledCall(db: Db, id: number): void {
  statement(db, `DELETE FROM claude_analyses WHERE id = ? AND outcome = 'sent'`).run(id);
}

/** `sent` rows that no running attempt will settle: their event is no longer processing that attempt. */
const ORPHANED = `outcome = 'sent' AND NOT EXISTS (
  SELECT 1 FROM webhook_events e
   WHERE e.id = claude_analyses.webhook_id AND e.status = 'processing' AND e.attempts = claude_analyses.attempt)`;

/**
 * Calls whose answer will never be read (their worker was killed, hung past its lease, or gave the
 * request up in flight) may have been paid: they count at their worst case for good, outcome
 * `unsettled`, and so do their budget reservations. `id` settles one call (abandoned by its own
 * worker) whatever its event's state; without it, every orphaned call. Returns how many were settled.
 */
export function settleAtWorstCase(db: Db, now: number, id: number | null = null): number {
  const which = id === null ? ORPHANED : `outcome = 'sent' AND id = @id`;
  const params = id === null ? { now } : { now, id };
  return db.transaction(() => {
    statement(
      db,
      `UPDATE budget_reservations SET state = 'settled', actual_usd = reserved_usd, settled_at = @now
        WHERE state = 'reserved' AND id IN (SELECT reservation_id FROM claude_analyses WHERE ${which})`,
    ).run(params);
    return statement(
      db,
      `UPDATE claude_analyses SET outcome = 'unsettled', claude_cost_usd = reserved_usd, settled_at = @now
        WHERE ${which}`,
    ).run(params).changes;
  })();
}

/** Every model call of an event, oldest first, as `hls show` lists them. */
export function eventLedger(db: Db, eventId: number): LedgerEntry[] {
  return statement(
    db,
    `SELECT id, created_at, model, outcome, claude_tokens_used AS tokens, claude_cost_usd AS cost_usd, reserved_usd,
            similar_offered, analysis_json
       FROM claude_analyses WHERE webhook_id = ? ORDER BY id`,
  ).all(eventId) as LedgerEntry[];
}

/** A paid, valid analysis of this event in this replay generation: a retry resumes from it. */
export function findCheckpoint(db: Db, eventId: number, replayGeneration: number): Checkpoint | undefined {
  return statement(
    db,
    `SELECT id, analysis_json, github_actions_json, similar_offered FROM claude_analyses
      WHERE webhook_id = ? AND replay_generation = ? AND outcome = 'ok' AND analysis_json IS NOT NULL
      ORDER BY id DESC LIMIT 1`,
  ).get(eventId, replayGeneration) as Checkpoint | undefined;
}

/** The GitHub actions recorded for a ledger row so far (JSON), or null. */
export function recordedActions(db: Db, analysisId: number): string | null {
  return (
    (statement(db, `SELECT github_actions_json FROM claude_analyses WHERE id = ?`).pluck().get(analysisId) as
      string | null | undefined) ?? null
  );
}

export function recordActions(db: Db, analysisId: number, actionsJson: string): void {
  statement(db, `UPDATE claude_analyses SET github_actions_json = ? WHERE id = ?`).run(actionsJson, analysisId);
}

/** Earlier events of a thread with their latest valid analysis, newest first. */
export function threadHistory(db: Db, threadKey: string, beforeId: number, limit: number): ThreadEntry[] {
  return statement(
    db,
    `SELECT e.id, e.event_type, e.action, e.sender_login, e.created_at, e.payload,
            (SELECT a.analysis_json FROM claude_analyses a
              WHERE a.webhook_id = e.id AND a.outcome = 'ok' ORDER BY a.id DESC LIMIT 1) AS analysis_json
       FROM webhook_events e
      WHERE e.thread_key = ? AND e.id < ?
      ORDER BY e.id DESC LIMIT ?`,
  ).all(threadKey, beforeId, limit) as ThreadEntry[];
}

/** Newer events of the same thread and kind that arrived within `windowMs` of it, newest first. */
export function newerThreadEvents(
  db: Db,
  event: { id: number; thread_key: string; event_type: string; created_at: number },
  windowMs: number,
): EventRow[] {
  return statement(
    db,
    `SELECT * FROM webhook_events
      WHERE thread_key = ? AND event_type = ? AND id > ? AND created_at <= ? AND status != 'skipped'
      ORDER BY id DESC`,
  ).all(event.thread_key, event.event_type, event.id, event.created_at + windowMs) as EventRow[];
}

/** Calls in flight (`sent`), counted at their worst case until they are settled. */
export function callsInFlight(db: Db): CallCount {
  return statement(
    db,
    `SELECT count(*) AS calls, coalesce(sum(claude_cost_usd), 0) AS usd FROM claude_analyses WHERE outcome = 'sent'`,
  ).get() as CallCount;
}

/** Calls settled at their worst case (`unsettled`) made at or after `since`. */
export function unsettledCalls(db: Db, since: number): CallCount {
  return statement(
    db,
    `SELECT count(*) AS calls, coalesce(sum(claude_cost_usd), 0) AS usd FROM claude_analyses
      WHERE outcome = 'unsettled' AND created_at >= ?`,
  ).get(since) as CallCount;
}
