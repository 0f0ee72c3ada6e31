import type { Db } from './open.js';
import { statement } from './statements.js';
import type { EventRow } from './types.js';

export type AnalysisOutcome = 'ok' | 'refusal' | 'max_tokens' | 'invalid' | 'not_sent';

export interface NewAnalysis {
  eventId: number;
  eventType: string;
  repository: string | null;
  model: string | null;
  template: string;
  prompt: string;
  response: string | null;
  outcome: AnalysisOutcome;
  analysisJson: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
  costUsd: number;
  processingMs: number;
  replayGeneration: number;
  requestId: string | null;
  now: number;
}

/** The ledger row: written right after the model answered, before anything is done on GitHub. */
export function recordAnalysis(db: Db, a: NewAnalysis): number {
  const tokens = a.inputTokens + a.outputTokens + a.cacheWriteTokens + a.cacheReadTokens;
  return Number(
    statement(
      db,
      `INSERT INTO claude_analyses (webhook_id, event_type, repository, model, template, claude_prompt, claude_response,
         outcome, analysis_json, claude_tokens_used, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens,
         claude_cost_usd, processing_time_ms, replay_generation, request_id, created_at)
       VALUES (@eventId, @eventType, @repository, @model, @template, @prompt, @response,
         @outcome, @analysisJson, @tokens, @inputTokens, @outputTokens, @cacheWriteTokens, @cacheReadTokens,
         @costUsd, @processingMs, @replayGeneration, @requestId, @now)`,
    ).run({ ...a, tokens }).lastInsertRowid,
  );
}

export interface Checkpoint {
  id: number;
  analysis_json: string;
  github_actions_json: string | null;
}

/** A paid, valid analysis of this event in this replay generation: a retry resumes from it. */
export function findCheckpoint(db: Db, eventId: number, replayGeneration: number): Checkpoint | undefined {
  return statement(
    db,
    `SELECT id, analysis_json, github_actions_json FROM claude_analyses
      WHERE webhook_id = ? AND replay_generation = ? AND outcome = 'ok' AND analysis_json IS NOT NULL
      ORDER BY id DESC LIMIT 1`,
  ).get(eventId, replayGeneration) as Checkpoint | undefined;
}

export function recordActions(db: Db, analysisId: number, actionsJson: string): void {
  statement(db, `UPDATE claude_analyses SET github_actions_json = ? WHERE id = ?`).run(actionsJson, analysisId);
}

export interface ThreadEntry {
  id: number;
  event_type: string;
  action: string | null;
  sender_login: string | null;
  created_at: number;
  payload: Buffer | null;
  analysis_json: string | null;
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
