import type { LedgerStore } from '../store.js';
import type { AnalysisTotals, CallCount, Checkpoint, LedgerEntry, Reservation } from '../types.js';
import type { Db, Sql } from './connect.js';
import { lockForTransaction } from './locks.js';

export function postgresLedger(sql: Sql): LedgerStore {
  return {
    async recordAnalysis(a) {
      const tokens = a.inputTokens + a.outputTokens + a.cacheWriteTokens + a.cacheReadTokens;
      const [row] = await sql<{ id: number }[]>`
        INSERT INTO claude_analyses (webhook_id, event_type, repository, model, template, claude_prompt,
            claude_response, outcome, analysis_json, claude_tokens_used, input_tokens, output_tokens,
            cache_write_tokens, cache_read_tokens, claude_cost_usd, processing_time_ms, replay_generation,
            request_id, similar_offered, created_at)
        VALUES (${a.eventId}, ${a.eventType}, ${a.repository}, ${a.model}, ${a.template}, ${a.prompt},
            ${a.response}, ${a.outcome}, ${a.analysisJson}, ${tokens}, ${a.inputTokens}, ${a.outputTokens},
            ${a.cacheWriteTokens}, ${a.cacheReadTokens}, ${a.costUsd}, ${a.processingMs}, ${a.replayGeneration},
            ${a.requestId}, ${a.similarOffered ?? null}, hls_now_ms())
        RETURNING id`;
      return row!.id;
    },

    /** Atomic across processes and hosts: the check and the insert hold the budget's advisory lock together. */
    async reserveBudget(request, limits) {
      return sql.begin(async (tx) => {
        await lockForTransaction(tx, 'budget');
        const [today] = await tx<{ day: string }[]>`SELECT hls_utc_day(hls_now_ms()) AS day`;
        const day = today!.day;
        const exceeds = async (limit: number | undefined, repository?: string): Promise<boolean> =>
          limit !== undefined && (await committedUsd(tx, day, repository)) + request.amountUsd > limit;
        if (await exceeds(limits.dailyUsd)) return { reservation: null, day };
        if (request.repository !== null && (await exceeds(limits.repositoryUsd, request.repository))) {
          return { reservation: null, day };
        }
        const [row] = await tx<{ id: number }[]>`
          INSERT INTO budget_reservations (event_id, day, repository, reserved_usd, state, created_at)
          VALUES (${request.eventId}, ${day}, ${request.repository}, ${request.amountUsd}, 'reserved', hls_now_ms())
          RETURNING id`;
        return { reservation: { id: row!.id, day }, day };
      });
    },

    async recordSentCall(call) {
      const [row] = await sql<{ id: number }[]>`
        INSERT INTO claude_analyses (webhook_id, event_type, repository, model, template, claude_prompt, outcome,
            claude_cost_usd, reserved_usd, attempt, reservation_id, replay_generation, similar_offered, created_at)
        VALUES (${call.eventId}, ${call.eventType}, ${call.repository}, ${call.model}, ${call.template},
            ${call.prompt}, 'sent', ${call.reservedUsd}, ${call.reservedUsd}, ${call.attempt}, ${call.reservationId},
            ${call.replayGeneration}, ${call.similarOffered ?? null}, hls_now_ms())
        RETURNING id`;
      return row!.id;
    },

    /** Its tokens, real cost and outcome replace the worst case (even after a rescue), with the reservation's. */
    async settleCall(id, r, reservation: Reservation | null) {
      const tokens = r.inputTokens + r.outputTokens + r.cacheWriteTokens + r.cacheReadTokens;
      await sql.begin(async (tx) => {
        if (reservation) {
          await tx`
            UPDATE budget_reservations SET state = 'settled', actual_usd = ${r.costUsd}, settled_at = hls_now_ms()
             WHERE id = ${reservation.id} AND state = 'reserved'`;
        }
        await tx`
          UPDATE claude_analyses
             SET claude_response = ${r.response}, outcome = ${r.outcome}, analysis_json = ${r.analysisJson},
                 claude_tokens_used = ${tokens}, input_tokens = ${r.inputTokens}, output_tokens = ${r.outputTokens},
                 cache_write_tokens = ${r.cacheWriteTokens}, cache_read_tokens = ${r.cacheReadTokens},
                 claude_cost_usd = ${r.costUsd}, processing_time_ms = ${r.processingMs}, request_id = ${r.requestId},
                 settled_at = hls_now_ms()
           WHERE id = ${id}`;
      });
    },

    async dropUnbilledCall(id, reservation) {
      await sql.begin(async (tx) => {
        await tx`DELETE FROM claude_analyses WHERE id = ${id} AND outcome = 'sent'`;
        if (reservation) {
          await tx`
            UPDATE budget_reservations SET state = 'released', actual_usd = 0, settled_at = hls_now_ms()
             WHERE id = ${reservation.id} AND state = 'reserved'`;
        }
      });
    },

    async settleAtWorstCase(id) {
      await sql.begin((tx) => settleAtWorstCase(tx, id));
    },

    async eventLedger(eventId) {
      return [
        ...(await sql<LedgerEntry[]>`
          SELECT id, created_at, model, outcome, claude_tokens_used AS tokens, claude_cost_usd AS cost_usd, reserved_usd,
                 similar_offered, analysis_json
            FROM claude_analyses WHERE webhook_id = ${eventId} ORDER BY id`),
      ];
    },

    async analysisTotals(eventId) {
      const [totals] = await sql<AnalysisTotals[]>`
        SELECT count(*) FILTER (WHERE outcome <> 'not_sent') AS analyses,
               coalesce(sum(claude_tokens_used), 0) AS tokens, coalesce(sum(claude_cost_usd), 0) AS cost_usd
          FROM claude_analyses WHERE webhook_id = ${eventId}`;
      return totals!;
    },

    async findCheckpoint(eventId, replayGeneration) {
      const [checkpoint] = await sql<Checkpoint[]>`
        SELECT id, analysis_json, github_actions_json, similar_offered FROM claude_analyses
         WHERE webhook_id = ${eventId} AND replay_generation = ${replayGeneration} AND outcome = 'ok'
           AND analysis_json IS NOT NULL
         ORDER BY id DESC LIMIT 1`;
      return checkpoint;
    },

    async recordedActions(analysisId) {
      const [row] = await sql<{ github_actions_json: string | null }[]>`
        SELECT github_actions_json FROM claude_analyses WHERE id = ${analysisId}`;
      return row?.github_actions_json ?? null;
    },

    async recordActions(analysisId, actionsJson) {
      await sql`UPDATE claude_analyses SET github_actions_json = ${actionsJson} WHERE id = ${analysisId}`;
    },
  };
}

/** Spend counted against a day: settled calls at their real cost, open reservations at their estimate. */
export async function committedUsd(db: Db, day: string, repository?: string): Promise<number> {
  const [row] = await db<{ usd: number }[]>`
    SELECT coalesce(sum(CASE state WHEN 'reserved' THEN reserved_usd WHEN 'settled' THEN actual_usd ELSE 0 END), 0) AS usd
      FROM budget_reservations
     WHERE day = ${day} ${repository === undefined ? db`` : db`AND repository = ${repository}`}`;
  return row!.usd;
}

/**
 * Calls whose answer will never be read (their worker was killed, hung past its lease, or gave the
 * request up in flight) may have been paid: they count at their worst case for good, outcome
 * `unsettled`, and so do their budget reservations. `id` settles that one call whatever its event's
 * state; null settles every orphaned one (its event no longer processing the attempt that made it).
 */
export async function settleAtWorstCase(db: Db, id: number | null): Promise<void> {
  const which =
    id === null
      ? db`outcome = 'sent' AND NOT EXISTS (
             SELECT 1 FROM webhook_events e
              WHERE e.id = claude_analyses.webhook_id AND e.status = 'processing' AND e.attempts = claude_analyses.attempt)`
      : db`outcome = 'sent' AND id = ${id}`;
  await db`
    UPDATE budget_reservations SET state = 'settled', actual_usd = reserved_usd, settled_at = hls_now_ms()
     WHERE state = 'reserved' AND id IN (SELECT reservation_id FROM claude_analyses WHERE ${which})`;
  await db`
    UPDATE claude_analyses SET outcome = 'unsettled', claude_cost_usd = reserved_usd, settled_at = hls_now_ms()
     WHERE ${which}`;
}

/** Calls in flight (`sent`), counted at their worst case until they are settled. */
export async function callsInFlight(db: Db): Promise<CallCount> {
  const [row] = await db<CallCount[]>`
    SELECT count(*) AS calls, coalesce(sum(claude_cost_usd), 0) AS usd FROM claude_analyses WHERE outcome = 'sent'`;
  return row!;
}

/** Calls settled at their worst case (`unsettled`) made at or after `since`. */
export async function unsettledCalls(db: Db, since: number): Promise<CallCount> {
  const [row] = await db<CallCount[]>`
    SELECT count(*) AS calls, coalesce(sum(claude_cost_usd), 0) AS usd FROM claude_analyses
     WHERE outcome = 'unsettled' AND created_at >= ${since}`;
  return row!;
}
