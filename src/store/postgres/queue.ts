import type { QueueStore } from '../store.js';
import type { EventRow, HistoryRow, Lease, Outcome, ReplayCandidate, RescuedEvent, ThreadEntry } from '../types.js';
import type { ConnectOptions, Sql } from './connect.js';
import { settleAtWorstCase } from './ledger.js';
import { listenForEvents } from './notifications.js';

/** A claim that met a sibling claimed by another process at the same moment tries again, this often at most. */
const CLAIM_TRIES = 10;

export function postgresQueue(sql: Sql, listenTarget: { url: string; options: ConnectOptions }): QueueStore {
  const owned = (lease: Lease) =>
    sql`id = ${lease.id} AND status = 'processing' AND locked_by = ${lease.worker} AND attempts = ${lease.attempt}`;

  return {
    async enqueue(event) {
      const [row] = await sql<{ id: number }[]>`
        INSERT INTO webhook_events (delivery_id, event_type, action, repository, thread_key, sender_login,
            sender_type, hook_id, payload, payload_sha256, payload_size, signature, created_at, scheduled_at)
          SELECT ${event.deliveryId}, ${event.eventType}, ${event.action}, ${event.repository}, ${event.threadKey},
            ${event.senderLogin}, ${event.senderType}, ${event.hookId}, ${event.payload}, ${event.payloadSha256},
            ${event.payload.length}, ${event.signature}, now.ms, now.ms
          FROM (SELECT hls_now_ms() AS ms) AS now
        ON CONFLICT (delivery_id) DO NOTHING
        RETURNING id`;
      return row ? row.id : null;
    },

    /** Nothing, when every try met a sibling claimed meanwhile: the others are busy claiming, the next poll tries again. */
    async claim(worker, leaseMs) {
      for (let tries = 0; tries < CLAIM_TRIES; tries++) {
        try {
          return await claimNext(sql, worker, leaseMs);
        } catch (error) {
          if ((error as { code?: string }).code !== '23505') throw error;
        }
      }
      return undefined;
    },

    async extendLease(lease, leaseMs) {
      const result = await sql`
        UPDATE webhook_events SET locked_until = hls_now_ms() + ${leaseMs} WHERE ${owned(lease)}`;
      return result.count === 1;
    },

    async returnToQueue(lease, runAt, reason) {
      const result = await sql`
        UPDATE webhook_events
           SET status = CASE WHEN attempts > 1 THEN 'retry' ELSE 'pending' END, attempts = attempts - 1,
               scheduled_at = ${runAt}, wait_reason = ${reason}, locked_by = NULL, locked_until = NULL
         WHERE ${owned(lease)}`;
      return result.count === 1;
    },

    async finish(lease, outcome: Outcome) {
      const terminal = outcome.status !== 'retry';
      const result = await sql`
        UPDATE webhook_events
           SET status = ${outcome.status}, skip_reason = ${outcome.status === 'skipped' ? outcome.reason : null},
               scheduled_at = coalesce(${outcome.status === 'retry' ? outcome.runAt : null}::bigint, scheduled_at),
               completed_at = CASE WHEN ${terminal} THEN hls_now_ms() END,
               error_class = coalesce(${'errorClass' in outcome ? outcome.errorClass : null}, error_class),
               error_message = coalesce(${'message' in outcome ? outcome.message : null}, error_message),
               wait_reason = NULL, locked_by = NULL, locked_until = NULL
         WHERE ${owned(lease)}`;
      return result.count === 1;
    },

    async rescueExpiredLeases(maxAttempts) {
      return sql.begin(async (tx) => {
        const rescued = await tx<RescuedEvent[]>`
          UPDATE webhook_events
             SET status = CASE WHEN attempts >= ${maxAttempts} THEN 'failed' ELSE 'retry' END,
                 completed_at = CASE WHEN attempts >= ${maxAttempts} THEN hls_now_ms() END,
                 error_class = 'lease_expired',
                 error_message = 'lease held by ' || coalesce(locked_by, '?') || ' expired during attempt ' || attempts,
                 scheduled_at = hls_now_ms(), locked_by = NULL, locked_until = NULL
           WHERE status = 'processing' AND locked_until < hls_now_ms()
          RETURNING id, delivery_id, status, attempts`;
        await settleAtWorstCase(tx, null);
        return [...rescued];
      });
    },

    listen: (onEvent) => listenForEvents(listenTarget, onEvent),

    async find(ref) {
      if (/^\d+$/.test(ref) && Number.isSafeInteger(Number(ref))) {
        const [byId] = await sql<EventRow[]>`SELECT * FROM webhook_events WHERE id = ${Number(ref)}`;
        if (byId) return byId;
      }
      const [byDelivery] = await sql<EventRow[]>`SELECT * FROM webhook_events WHERE delivery_id = ${ref}`;
      return byDelivery;
    },

    async history(eventId) {
      return [
        ...(await sql<HistoryRow[]>`
          SELECT at, from_status, to_status, attempt, worker, error_class, error_message, skip_reason
            FROM event_history WHERE event_id = ${eventId} ORDER BY id`),
      ];
    },

    async selectForReplay(filter) {
      const rows = await sql<ReplayCandidate[]>`
        SELECT id, delivery_id, event_type, action, repository, status, error_class, error_message, replay_count
          FROM webhook_events
         WHERE status <> 'processing'
           ${filter.ids.length > 0 ? sql`AND id IN ${ids(sql, filter.ids)}` : sql``}
           ${filter.status ? sql`AND status = ${filter.status}` : sql``}
           ${filter.since !== undefined ? sql`AND created_at >= ${filter.since}` : sql``}
           ${filter.repository ? sql`AND repository = ${filter.repository}` : sql``}
           ${filter.eventType ? sql`AND event_type = ${filter.eventType}` : sql``}
         ORDER BY id`;
      return [...rows];
    },

    /** Back to pending with a fresh set of attempts; the last error stays on the row for the operator. */
    async requeue(eventIds) {
      if (eventIds.length === 0) return 0;
      const result = await sql`
        UPDATE webhook_events
           SET status = 'pending', attempts = 0, replay_count = replay_count + 1, scheduled_at = hls_now_ms(),
               started_at = NULL, completed_at = NULL, skip_reason = NULL, locked_by = NULL, locked_until = NULL
         WHERE id IN ${ids(sql, eventIds)} AND status <> 'processing'`;
      return result.count;
    },

    async storedDeliveryIds(guids) {
      if (guids.length === 0) return new Set();
      const rows = await sql<{ delivery_id: string }[]>`
        SELECT delivery_id FROM webhook_events WHERE delivery_id IN ${texts(sql, guids)}`;
      return new Set(rows.map((row) => row.delivery_id));
    },

    /** Most recently used first; owner/repo in any case. */
    async hookIdsForRepository(repository) {
      const rows = await sql<{ hook_id: string }[]>`
        SELECT hook_id FROM webhook_events
         WHERE lower(repository) = lower(${repository}) AND hook_id IS NOT NULL AND hook_id ~ '^[0-9]'
         GROUP BY hook_id ORDER BY max(id) DESC`;
      return rows.map((row) => Number(row.hook_id)).filter(Number.isSafeInteger);
    },

    async seenHookIds(hookIds) {
      if (hookIds.length === 0) return new Set();
      const rows = await sql<{ hook_id: string }[]>`
        SELECT DISTINCT hook_id FROM webhook_events WHERE hook_id IN ${texts(sql, hookIds.map(String))}`;
      return new Set(rows.map((row) => Number(row.hook_id)));
    },

    async threadHistory(threadKey, beforeId, limit) {
      const rows = await sql<ThreadEntry[]>`
        SELECT e.id, e.event_type, e.action, e.sender_login, e.created_at, e.payload,
               (SELECT a.analysis_json FROM claude_analyses a
                 WHERE a.webhook_id = e.id AND a.outcome = 'ok' ORDER BY a.id DESC LIMIT 1) AS analysis_json
          FROM webhook_events e
         WHERE e.thread_key = ${threadKey} AND e.id < ${beforeId}
         ORDER BY e.id DESC LIMIT ${limit}`;
      return [...rows];
    },

    async newerThreadEvents(event, windowMs) {
      const rows = await sql<EventRow[]>`
        SELECT * FROM webhook_events
         WHERE thread_key = ${event.thread_key} AND event_type = ${event.event_type} AND id > ${event.id}
           AND created_at <= ${event.created_at + windowMs} AND status <> 'skipped'
         ORDER BY id DESC`;
      return [...rows];
    },
  };
}

/** Any number of values as one JSON parameter, where a list of bind parameters stops at 65,535. */
export const texts = (sql: Sql, values: string[]) =>
  sql`(SELECT value FROM jsonb_array_elements_text(${JSON.stringify(values)}::text::jsonb) AS value)`;
const ids = (sql: Sql, values: number[]) =>
  sql`(SELECT value::bigint FROM jsonb_array_elements_text(${JSON.stringify(values)}::text::jsonb) AS value)`;

/**
 * Takes the next due event of a thread not in flight and leases it, by the database's clock.
 * SKIP LOCKED lets concurrent claimers pass each other's rows. Two of them may still pick two events
 * of one thread at once (neither sees the other's uncommitted claim): the unique index on processing
 * thread keys then refuses the second with 23505, and the caller claims again.
 */
async function claimNext(sql: Sql, worker: string, leaseMs: number): Promise<EventRow | undefined> {
  const [claimed] = await sql<EventRow[]>`
    WITH now AS (SELECT hls_now_ms() AS ms),
    next AS (
      SELECT due.id FROM webhook_events AS due, now
       WHERE due.status IN ('pending', 'retry') AND due.scheduled_at <= now.ms
         -- No OR thread_key IS NULL: a NULL key matches no row anyway, and the OR would keep the planner
         -- from an anti-join on webhook_events_thread_in_flight (it hashed every leased row instead).
         AND NOT EXISTS (
               SELECT 1 FROM webhook_events AS busy
                WHERE busy.thread_key = due.thread_key AND busy.status = 'processing')
       ORDER BY due.priority, due.scheduled_at, due.id
       LIMIT 1
       FOR UPDATE OF due SKIP LOCKED
    )
    UPDATE webhook_events AS e
       SET status = 'processing', locked_by = ${worker}, locked_until = now.ms + ${leaseMs},
           started_at = now.ms, attempts = e.attempts + 1
      FROM next, now
     WHERE e.id = next.id
    RETURNING e.*`;
  return claimed;
}
