import type { Db } from './open.js';
import { writeReturning } from './statements.js';
import type { NewEvent } from '../types.js';

/** Inserts the event unless its delivery id is already stored; returns the new id, or null for a duplicate. */
export function enqueueEvent(db: Db, event: NewEvent & { now: number }): number | null {
  const [row] = writeReturning<{ id: number }>(
    db,
    `INSERT INTO webhook_events (delivery_id, event_type, action, repository, thread_key, sender_login,
         sender_type, hook_id, payload, payload_sha256, payload_size, signature, created_at, scheduled_at)
       VALUES (@deliveryId, @eventType, @action, @repository, @threadKey, @senderLogin,
         @senderType, @hookId, @payload, @payloadSha256, @payloadSize, @signature, @now, @now)
       ON CONFLICT (delivery_id) DO NOTHING
       RETURNING id`,
    { ...event, payloadSize: event.payload.length },
  );
  return row ? row.id : null;
}
