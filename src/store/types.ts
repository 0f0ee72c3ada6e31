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

/** What `hls queue` stores for one delivery. */
export interface NewEvent {
  deliveryId: string;
  eventType: string;
  action: string | null;
  repository: string | null;
  threadKey: string | null;
  senderLogin: string | null;
  senderType: string | null;
  hookId: string | null;
  payload: Buffer;
  payloadSha256: string;
  signature: string | null;
}

export type Outcome =
  | { status: 'completed' }
  | { status: 'skipped'; reason: string }
  | { status: 'retry'; runAt: number; errorClass: string; message: string }
  | { status: 'failed'; errorClass: string; message: string };

export interface RescuedEvent {
  id: number;
  delivery_id: string;
  status: 'retry' | 'failed';
  attempts: number;
}

export interface ReplayFilter {
  ids: number[];
  status?: EventStatus;
  since?: number;
  repository?: string;
  eventType?: string;
}

export type ReplayCandidate = Pick<
  EventRow,
  | 'id'
  | 'delivery_id'
  | 'event_type'
  | 'action'
  | 'repository'
  | 'status'
  | 'error_class'
  | 'error_message'
  | 'replay_count'
>;

export interface ThreadEntry {
  id: number;
  event_type: string;
  action: string | null;
  sender_login: string | null;
  created_at: number;
  payload: Buffer | null;
  analysis_json: string | null;
}

/** `sent`: in flight, counted at its worst case; `unsettled`: orphaned in flight, counted at its worst case for good. */
export type AnalysisOutcome = 'ok' | 'refusal' | 'max_tokens' | 'invalid' | 'not_sent' | 'sent' | 'unsettled';

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
  /** The related threads offered in the prompt: JSON [{number, score}], best first; null when none were. */
  similarOffered?: string | null;
}

export type SentCall = Pick<
  NewAnalysis,
  'eventId' | 'eventType' | 'repository' | 'model' | 'template' | 'prompt' | 'replayGeneration' | 'similarOffered'
> & {
  /** The call's worst-case cost: what it counts for until it is settled. */
  reservedUsd: number;
  /** webhook_events.attempts of the attempt that makes the call. */
  attempt: number;
  reservationId: number | null;
};

export type CallResult = Pick<
  NewAnalysis,
  | 'response'
  | 'outcome'
  | 'analysisJson'
  | 'inputTokens'
  | 'outputTokens'
  | 'cacheWriteTokens'
  | 'cacheReadTokens'
  | 'costUsd'
  | 'processingMs'
  | 'requestId'
>;

export interface LedgerEntry {
  id: number;
  created_at: number;
  model: string | null;
  outcome: AnalysisOutcome;
  tokens: number;
  cost_usd: number;
  reserved_usd: number | null;
  /** JSON [{number, score}] of the related threads offered; null when none were searched for. */
  similar_offered: string | null;
  /** The validated answer (outcome ok). */
  analysis_json: string | null;
}

/** Model calls of an event (prompts recorded without a key are not calls). */
export interface AnalysisTotals {
  analyses: number;
  tokens: number;
  cost_usd: number;
}

export interface Checkpoint {
  id: number;
  analysis_json: string;
  github_actions_json: string | null;
  similar_offered: string | null;
}

export interface CallCount {
  calls: number;
  usd: number;
}

export interface BudgetLimits {
  dailyUsd?: number;
  repositoryUsd?: number;
}

export interface Reservation {
  id: number;
  day: string;
}

export interface RepoLabel {
  name: string;
  color: string;
  description: string | null;
}

export interface StickyComment {
  comment_id: number;
  html_url: string | null;
}

export interface WorkerRecord {
  id: string;
  pid: number;
  host: string;
  started_at: number;
  heartbeat_at: number;
  lease_ms: number;
  concurrency: number;
  in_flight: number;
  processed: number;
  stopped_at: number | null;
}

/** Which process a row belongs to: a worker writes only its own row, never one another process took over. */
export type WorkerSelf = Pick<WorkerRecord, 'id' | 'pid' | 'host'>;

export type Api = 'github' | 'anthropic';

/** One resource's state as an API's rate-limit headers told it. */
export interface RateLimitReading {
  resource: string;
  limit: number | null;
  remaining: number | null;
  used: number | null;
  resetAt: number | null;
}

export interface RateLimitRow {
  api: Api;
  key_sha256: string;
  resource: string;
  limit_value: number | null;
  remaining: number | null;
  used: number | null;
  reset_at: number | null;
  observed_at: number;
}

export interface Pause {
  scope: string;
  until_at: number;
  reason: string;
  started_at: number;
  hits: number;
}

export interface WritePacing {
  minIntervalMs: number;
  windows: { max: number; ms: number }[];
}

/** A pause lifted by hand, as `hls stats` lists it. */
export interface ResumedPause {
  scope: string;
  reason: string;
  started_at: number;
  until_at: number;
  hits: number;
  resumed_at: number;
  resumed_by: string;
  note: string | null;
  events_resumed: number;
}

export interface ResumeRequest {
  /** Which active pauses to lift. */
  select: (pause: Pause) => boolean;
  by: string;
  note: string | null;
  dryRun: boolean;
}

/** Upper bounds (seconds) of each histogram's buckets; a value above the last goes to +Inf. */
export const HISTOGRAM_BOUNDS = {
  github_request_duration_seconds: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  anthropic_request_duration_seconds: [0.5, 1, 2.5, 5, 10, 20, 40, 60, 120, 300],
  event_processing_seconds: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
} as const;

export type HistogramName = keyof typeof HISTOGRAM_BOUNDS;

export interface HistogramSeries {
  labels: Record<string, string>;
  /** Non-cumulative counts per bucket, bounds.length + 1 entries (the last is +Inf). */
  buckets: number[];
  count: number;
  sum: number;
}

export interface PruneResult {
  payloadsDropped: number;
  bytesDropped: number;
  rowsDeleted: number;
  /** Rate-limit history older than the cutoff; the newest reading of each limit is kept. */
  readingsDeleted: number;
}

export type StatusCounts = Record<EventStatus, number> & { total: number };

export interface GroupCounts extends StatusCounts {
  name: string;
}

export interface DailyRow {
  date: string;
  events: number;
  completed: number;
  failed: number;
  skipped: number;
  analyses: number;
  actions: number;
  tokens: number;
  cost_usd: number;
}

export interface StatsSnapshot {
  /** The database's clock when the snapshot was read. */
  now: number;
  queue: StatusCounts;
  oldestDueAt: number | null;
  receivedInWindow: number;
  finishedInWindow: Record<'completed' | 'failed' | 'skipped', number>;
  retriesInWindow: number;
  processingMs: number[];
  byEvent: GroupCounts[];
  byRepository: GroupCounts[];
  daily: DailyRow[];
  /** Spend committed against today's budget (settled + reserved) and events waiting for the next day. */
  budgetCommittedToday: number;
  budgetDeferred: number;
  /** Workers running, or stopped within the last day. */
  workers: WorkerRecord[];
  /** The newest rate-limit reading of every API, key and resource. */
  rateLimits: RateLimitRow[];
  pauses: Pause[];
  /** Pauses lifted by hand (`hls resume`) within the window. */
  resumedPauses: ResumedPause[];
  /** Model calls in flight, and today's calls orphaned in flight: both counted at their worst case. */
  callsInFlight: CallCount;
  unsettledToday: CallCount;
}

/** What `hls report` draws beyond `hls stats`, for the UTC days from `firstDay` to today. */
export interface ReportSnapshot {
  /** `hls stats`'s figures, read in the same snapshot with `firstDay`'s midnight as the window start. */
  stats: StatsSnapshot;
  /** The window's first UTC date (YYYY-MM-DD). */
  firstDay: string;
  /** Stored events that were skipped or failed, by arrival day and reason (skip reason or error). */
  reasons: { date: string; status: 'skipped' | 'failed'; reason: string; n: number }[];
  /** The ledger's spend by day (of the call), model and repository. */
  spend: { date: string; model: string; repository: string; cost_usd: number; calls: number }[];
  /** Processing time of each completed event, by the day it completed, ascending within a day. */
  durations: { date: string; ms: number }[];
}

/** A daily spend limit: `all` for claude.daily_budget_usd, else the repository it belongs to. */
export interface BudgetScope {
  scope: string;
  /** Only this repository's spend counts; undefined: every repository's. */
  repository?: string;
  dailyUsd: number;
}

export interface LedgerRow {
  model: string;
  outcome: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cache_write_tokens: number;
  cache_read_tokens: number;
  cost_usd: number;
}

export interface MetricsSnapshot {
  now: number;
  events: { event: string; status: EventStatus; count: number }[];
  oldestDueAt: number | null;
  /** Settled model calls from the ledger (prompts recorded without being sent, and calls in flight, are left out). */
  ledger: LedgerRow[];
  /** Calls in flight at their worst case, and every call settled at its worst case (orphaned in flight). */
  callsInFlight: CallCount;
  unsettled: CallCount;
  budgets: (BudgetScope & { committedUsd: number })[];
  histograms: Record<HistogramName, HistogramSeries[]>;
  /** The newest reading of each limit whose window has not reset yet (a rotated token's drop out). */
  rateLimits: RateLimitRow[];
  pauses: Pause[];
  /** Workers running, or stopped within the last day (as `hls stats` lists them). */
  workers: WorkerRecord[];
}

/** A thread a maintainer told hls to leave alone (`/hls ignore`). */
export interface IgnoredThread {
  by: string;
  at: number;
}

/** The characters of a body the related-issue index keeps (and a search reads of its query). */
export const SIMILAR_BODY_CHARS = 2000;

/** An issue or pull request as the related-issue search indexes it. */
export interface IndexedThread {
  repository: string;
  number: number;
  kind: 'issue' | 'pull_request';
  title: string;
  /** The start of the body; the store keeps at most SIMILAR_BODY_CHARS of it. */
  body: string;
  state: 'open' | 'closed';
  url: string | null;
  /** GitHub's updated_at in epoch ms: a version older than the indexed one is ignored. */
  updated_at: number;
}

/** A search of one repository's indexed threads. */
export interface SimilarQuery {
  repository: string;
  /** The title and body to find threads like. */
  text: string;
  limit: number;
  /** The thread the query is about, left out of the answer. */
  exclude?: number;
}

/** A candidate of a search, best first; `score` is in [0, 1] and means the same on both backends. */
export interface SimilarMatch extends Pick<IndexedThread, 'number' | 'kind' | 'title' | 'body' | 'state' | 'url'> {
  score: number;
}

/** hls's latest valid analysis of a thread, as a related thread shows it in the prompt. */
export interface ThreadAssessment {
  number: number;
  priority: string;
  difficulty: string;
  component: string;
  confidence: number;
  analysed_at: number;
}

/** Where `hls similar index` stopped in a repository. */
export interface BackfillState {
  repository: string;
  next_page: number;
  indexed: number;
  finished_at: number | null;
  updated_at: number;
}

/** A repository's file as last read from GitHub; `content` null when the file does not exist. */
export interface RepositoryFile {
  repository: string;
  path: string;
  etag: string | null;
  sha: string | null;
  content: string | null;
  fetched_at: number;
  warned_sha: string | null;
}
