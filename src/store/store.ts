import type {
  AnalysisTotals,
  BudgetLimits,
  CallResult,
  Checkpoint,
  EventRow,
  HistogramName,
  HistoryRow,
  LedgerEntry,
  MetricsSnapshot,
  NewAnalysis,
  NewEvent,
  Outcome,
  Pause,
  PruneResult,
  RateLimitReading,
  RateLimitRow,
  RescuedEvent,
  ReplayCandidate,
  ReplayFilter,
  RepoLabel,
  Reservation,
  ResumedPause,
  ResumeRequest,
  SentCall,
  StatsSnapshot,
  ReportSnapshot,
  StickyComment,
  ThreadEntry,
  Lease,
  Api,
  WorkerRecord,
  WorkerSelf,
  IgnoredThread,
  WritePacing,
  BudgetScope,
  IndexedThread,
  SimilarQuery,
  SimilarMatch,
  ThreadAssessment,
  BackfillState,
  RepositoryFile,
} from './types.js';

/**
 * The one way hls reaches its database, implemented by `sqlite/` (the embedded default) and
 * `postgres/` (several hosts on one queue). Every decision that depends on time — lease expiry, the
 * claim's due time, pacing windows, the budget's UTC day — is taken with the database's clock, so a
 * host whose clock is off cannot steal a live lease or break pacing. Where a caller needs a time of
 * its own (a backoff's run-at, a record's timestamp), it reads `clock()`.
 */
export interface Store {
  readonly backend: 'sqlite' | 'postgres';
  /** Where the data lives, as an operator may be shown it (a file path, or a URL without its password). */
  readonly location: string;
  readonly queue: QueueStore;
  readonly ledger: LedgerStore;
  readonly limits: LimitsStore;
  readonly cache: GitHubCacheStore;
  readonly threads: ThreadStore;
  readonly similar: SimilarStore;
  readonly workers: WorkerStore;
  readonly admin: AdminStore;
  /** Now, in epoch ms, by the database's clock (SQLite: this host's; PostgreSQL: the server's, kept as an offset). */
  clock(): number;
  close(): Promise<void>;
}

/** webhook_events and its history: intake, claims and leases, replay, and the thread queries. */
export interface QueueStore {
  /** Inserts the event unless its delivery id is stored; the new id, or null for a duplicate. */
  enqueue(event: NewEvent): Promise<number | null>;
  /** Takes the next due event of a thread not in flight and leases it to `worker` for `leaseMs`. */
  claim(worker: string, leaseMs: number): Promise<EventRow | undefined>;
  /** Extends a lease by `leaseMs` from now; false when it was lost (expired and taken over). */
  extendLease(lease: Lease, leaseMs: number): Promise<boolean>;
  /** Puts a claimed event back to wait until `runAt` without counting the attempt. */
  returnToQueue(lease: Lease, runAt: number, reason: string | null): Promise<boolean>;
  /** Records how a claimed event ended; false if the lease was lost meanwhile. */
  finish(lease: Lease, outcome: Outcome): Promise<boolean>;
  /** Expired leases go back to retry (or failed); their orphaned model calls are settled at worst case. */
  rescueExpiredLeases(maxAttempts: number): Promise<RescuedEvent[]>;
  /**
   * Calls `onEvent` soon after an event is queued or replayed by any process, where the backend can
   * tell (PostgreSQL LISTEN); polling stays the fallback. Returns the function that stops listening.
   */
  listen(onEvent: () => void): Promise<() => Promise<void>>;
  find(ref: string): Promise<EventRow | undefined>;
  history(eventId: number): Promise<HistoryRow[]>;
  selectForReplay(filter: ReplayFilter): Promise<ReplayCandidate[]>;
  requeue(ids: number[]): Promise<number>;
  storedDeliveryIds(guids: string[]): Promise<Set<string>>;
  hookIdsForRepository(repository: string): Promise<number[]>;
  seenHookIds(hookIds: number[]): Promise<Set<number>>;
  /** Earlier events of a thread with their latest valid analysis, newest first. */
  threadHistory(threadKey: string, beforeId: number, limit: number): Promise<ThreadEntry[]>;
  /** Newer events of the same thread and kind that arrived within `windowMs` of it, newest first. */
  newerThreadEvents(
    event: { id: number; thread_key: string; event_type: string; created_at: number },
    windowMs: number,
  ): Promise<EventRow[]>;
}

/** The model-call ledger and the budget reservations that keep spend under its caps. */
export interface LedgerStore {
  /** A ledger row written whole: a prompt recorded without being sent. */
  recordAnalysis(analysis: NewAnalysis): Promise<number>;
  /** Reserves `amountUsd` against today's (database clock, UTC) budget if it fits under every limit. */
  reserveBudget(
    request: { eventId: number; repository: string | null; amountUsd: number },
    limits: BudgetLimits,
  ): Promise<{ reservation: Reservation | null; day: string }>;
  /** The ledger row of a call about to be sent. */
  recordSentCall(call: SentCall): Promise<number>;
  /** The answer arrived: real tokens and cost replace the worst case, in the ledger and the reservation. */
  settleCall(id: number, result: CallResult, reservation: Reservation | null): Promise<void>;
  /** The API refused the request: the call leaves no row and its reservation stops counting. */
  dropUnbilledCall(id: number, reservation: Reservation | null): Promise<void>;
  /** Settles one abandoned call at its worst case for good. */
  settleAtWorstCase(id: number): Promise<void>;
  eventLedger(eventId: number): Promise<LedgerEntry[]>;
  analysisTotals(eventId: number): Promise<AnalysisTotals>;
  findCheckpoint(eventId: number, replayGeneration: number): Promise<Checkpoint | undefined>;
  recordedActions(analysisId: number): Promise<string | null>;
  recordActions(analysisId: number, actionsJson: string): Promise<void>;
}

/** What every process shares to stay inside the APIs' limits, and the request-duration histograms. */
export interface LimitsStore {
  /** A request's duration into its histogram and the rate-limit readings its answer carried, together. */
  recordRequest(
    api: Api,
    keySha256: string,
    labels: Record<string, string>,
    seconds: number,
    readings: RateLimitReading[],
  ): Promise<void>;
  observe(metric: HistogramName, labels: Record<string, string>, seconds: number): Promise<void>;
  latestRateLimit(api: Api, keySha256: string, resource: string): Promise<RateLimitRow | undefined>;
  /** Pauses `scope` until `untilAt`, or keeps a longer pause already recorded. */
  pause(scope: string, untilAt: number, reason: string): Promise<void>;
  activePause(scope: string): Promise<Pause | undefined>;
  /** Takes a content-write slot for the token if pacing allows one now (0), else the ms to wait. */
  takeWriteSlot(keySha256: string, pacing: WritePacing): Promise<number>;
  /** Lifts the selected pauses; the events they parked become due now. */
  resumePauses(request: ResumeRequest): Promise<ResumedPause[]>;
}

/** What hls remembers of GitHub between events: labels, the bot's login, the sticky comment per thread. */
export interface GitHubCacheStore {
  cachedLabels(repository: string, maxAgeMs: number): Promise<RepoLabel[] | undefined>;
  storeLabels(repository: string, labels: RepoLabel[]): Promise<void>;
  knownLogin(tokenSha256: string): Promise<string | undefined>;
  storeLogin(tokenSha256: string, login: string): Promise<void>;
  stickyComment(threadKey: string): Promise<StickyComment | undefined>;
  storeStickyComment(threadKey: string, comment: StickyComment): Promise<void>;
  /** A repository's file (.github/hls.yml) as last read, for a conditional request. */
  repositoryFile(repository: string, path: string): Promise<RepositoryFile | undefined>;
  /** Replaces the stored file (fetched_at is set to now); `warned_sha` is kept unless given. */
  storeRepositoryFile(
    file: Omit<RepositoryFile, 'fetched_at' | 'warned_sha'> & { warned_sha?: string | null },
  ): Promise<void>;
  /** A 304: the stored file is current; only fetched_at moves. */
  touchRepositoryFile(repository: string, path: string): Promise<void>;
  /** Records that the warning about this version of an invalid file was logged; false if it already was. */
  markRepositoryFileWarned(repository: string, path: string, sha: string): Promise<boolean>;
}

/** What maintainers told hls about a thread with comment commands. */
export interface ThreadStore {
  /** Who ignored the thread and when; undefined when it is analysed as usual. */
  ignoredThread(threadKey: string): Promise<IgnoredThread | undefined>;
  /** `/hls ignore` (true) or `/hls resume` (false) from `by`. */
  setThreadIgnored(threadKey: string, ignored: boolean, by: string): Promise<void>;
}

/** The full-text index of issues and pull requests behind related-issue search. */
export interface SimilarStore {
  /** Adds the thread or replaces its indexed version, unless the indexed one is newer (by updated_at). */
  indexThread(thread: IndexedThread): Promise<void>;
  /**
   * indexThread for a batch in one transaction (a page of the backfill), and the backfill's progress with
   * it when given; returns how many threads were added or replaced.
   */
  indexThreads(threads: IndexedThread[], backfill?: Omit<BackfillState, 'updated_at'>): Promise<number>;
  /** The best matches in `query.repository`, best first, at most `query.limit`. */
  search(query: SimilarQuery): Promise<SimilarMatch[]>;
  /** hls's latest valid analysis of each of these threads of the repository that has one. */
  assessments(repository: string, numbers: number[]): Promise<ThreadAssessment[]>;
  /** Indexed threads, of one repository or all. */
  indexedCount(repository?: string): Promise<number>;
  backfillState(repository: string): Promise<BackfillState | undefined>;
  saveBackfillState(state: Omit<BackfillState, 'updated_at'>): Promise<void>;
}

/** The registry of worker processes. */
export interface WorkerStore {
  /** Takes the row of `w.id` unless a live worker holds it (WorkerIdInUseError). */
  register(
    w: Omit<WorkerRecord, 'heartbeat_at' | 'in_flight' | 'processed' | 'stopped_at' | 'started_at'>,
  ): Promise<void>;
  heartbeat(self: WorkerSelf, inFlight: number, processed: number): Promise<void>;
  stopped(self: WorkerSelf, processed: number): Promise<void>;
}

/** Read-mostly views for operators, and maintenance. */
export interface AdminStore {
  readStats(since: number, days: number): Promise<StatsSnapshot>;
  /** `hls report`'s figures for the last `days` UTC days (today included), in one snapshot. */
  readReport(days: number): Promise<ReportSnapshot>;
  collectMetrics(budgets: BudgetScope[]): Promise<MetricsSnapshot>;
  planPrune(cutoff: number, deleteRows: boolean): Promise<PruneResult>;
  prune(cutoff: number, deleteRows: boolean): Promise<PruneResult>;
  /** Gives freed space back (SQLite: checkpoint and incremental vacuum; PostgreSQL: VACUUM). */
  reclaimSpace(): Promise<void>;
  /** Bytes the data takes (SQLite: the file and its WAL; PostgreSQL: pg_database_size). */
  sizeBytes(): Promise<number>;
}
