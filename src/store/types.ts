export type EventStatus = 'pending' | 'processing' | 'completed' | 'failed' | 'retry' | 'skipped';

export const EVENT_STATUSES: readonly EventStatus[] = [
  'pending',
  'processing',
  'retry',
  'completed',
  'failed',
  'skipped',
];

/** A row of webhook_events. Times are epoch milliseconds. */
export interface EventRow {
  id: number;
  delivery_id: string;
  event_type: string;
  action: string | null;
  repository: string | null;
  thread_key: string | null;
  sender_login: string | null;
  sender_type: string | null;
  hook_id: string | null;
  payload: Buffer | null;
  payload_sha256: string;
  payload_size: number;
  signature: string | null;
  status: EventStatus;
  skip_reason: string | null;
  wait_reason: string | null;
  attempts: number;
  priority: number;
  created_at: number;
  scheduled_at: number;
  started_at: number | null;
  completed_at: number | null;
  locked_by: string | null;
  locked_until: number | null;
  error_class: string | null;
  error_message: string | null;
  replay_count: number;
}

export interface HistoryRow {
  at: number;
  from_status: EventStatus | null;
  to_status: EventStatus;
  attempt: number;
  worker: string | null;
  error_class: string | null;
  error_message: string | null;
  skip_reason: string | null;
}

/** Identifies one claim of one event: a finish or heartbeat only applies while the claim is still ours. */
export interface Lease {
  id: number;
  worker: string;
  attempt: number;
}
