import type { OpenOptions } from '../open-store.js';
import type {
  AdminStore,
  GitHubCacheStore,
  LedgerStore,
  LimitsStore,
  QueueStore,
  Store,
  ThreadStore,
  WorkerStore,
} from '../store.js';
import { utcDay } from '../status-counts.js';
import {
  dropUnbilledCall,
  eventLedger,
  findCheckpoint,
  newerThreadEvents,
  recordActions,
  recordAnalysis,
  recordedActions,
  recordSentCall,
  settleAtWorstCase,
  settleCall,
  threadHistory,
} from './analyses.js';
import { releaseReservation, reserveBudget, settleReservation } from './budget.js';
import { claimNextEvent } from './claim.js';
import { hookIdsForRepository, seenHookIds, storedDeliveryIds } from './deliveries.js';
import { enqueueEvent } from './enqueue.js';
import { analysisTotals, eventHistory, findEvent } from './find.js';
import {
  cachedLabels,
  knownLogin,
  stickyComment,
  storeLabels,
  storeLogin,
  storeStickyComment,
  repositoryFile,
  storeRepositoryFile,
  touchRepositoryFile,
  markRepositoryFileWarned,
} from './github-cache.js';
import { extendLease, finishEvent, returnToQueue } from './lease.js';
import { collectMetrics } from './metrics-snapshot.js';
import { observe } from './metrics.js';
import { openDatabase, type Db } from './open.js';
import { fileBytes, planPrune, prune, reclaimSpace } from './prune.js';
import { activePause, latestRateLimit, pauseScope, recordRateLimits, takeWriteSlot } from './rate-limits.js';
import { requeueEvents, selectForReplay } from './replay.js';
import { readReport } from './report.js';
import { rescueExpiredLeases } from './rescue.js';
import { resumePauses } from './resume.js';
import { sqliteSimilar } from './similar.js';
import { readStats } from './stats.js';
import { ignoredThread, setThreadIgnored } from './threads.js';
import { registerWorker, workerHeartbeat, workerStopped } from './workers.js';

/**
 * The embedded backend: one SQLite file shared by the processes of one host. better-sqlite3 is
 * synchronous; the store answers with settled promises so that callers are the same for both backends.
 * The host's clock is the database's clock here.
 */
export function openSqliteStore(path: string, options: OpenOptions = {}): Store {
  return sqliteStore(openDatabase(path, options), path);
}

function sqliteStore(db: Db, path: string): Store {
  const now = (): number => Date.now();
  const queue: QueueStore = {
    enqueue: async (event) => enqueueEvent(db, { ...event, now: now() }),
    claim: async (worker, leaseMs) => claimNextEvent(db, worker, now(), leaseMs),
    extendLease: async (lease, leaseMs) => extendLease(db, lease, now() + leaseMs),
    returnToQueue: async (lease, runAt, reason) => returnToQueue(db, lease, runAt, reason),
    finish: async (lease, outcome) => finishEvent(db, lease, outcome, now()),
    rescueExpiredLeases: async (maxAttempts) => rescueExpiredLeases(db, now(), maxAttempts),
    // Writers of one file are processes of this host: polling the file is the notification.
    listen: async () => async () => {},
    find: async (ref) => findEvent(db, ref),
    history: async (eventId) => eventHistory(db, eventId),
    selectForReplay: async (filter) => selectForReplay(db, filter),
    requeue: async (ids) => requeueEvents(db, ids, now()),
    storedDeliveryIds: async (guids) => storedDeliveryIds(db, guids),
    hookIdsForRepository: async (repository) => hookIdsForRepository(db, repository),
    seenHookIds: async (hookIds) => seenHookIds(db, hookIds),
    threadHistory: async (threadKey, beforeId, limit) => threadHistory(db, threadKey, beforeId, limit),
    newerThreadEvents: async (event, windowMs) => newerThreadEvents(db, event, windowMs),
  };
  const ledger: LedgerStore = {
    recordAnalysis: async (analysis) => recordAnalysis(db, { ...analysis, now: now() }),
    reserveBudget: async (request, limits) => {
      const at = now();
      const day = utcDay(at);
      return { reservation: reserveBudget(db, { ...request, day, now: at }, limits), day };
    },
    recordSentCall: async (call) => recordSentCall(db, { ...call, now: now() }),
    settleCall: async (id, result, reservation) =>
      db.transaction(() => {
        if (reservation) settleReservation(db, reservation, result.costUsd, now());
        settleCall(db, id, { ...result, now: now() });
      })(),
    dropUnbilledCall: async (id, reservation) =>
      db.transaction(() => {
        dropUnbilledCall(db, id);
        if (reservation) releaseReservation(db, reservation, now());
      })(),
    settleAtWorstCase: async (id) => void settleAtWorstCase(db, now(), id),
    eventLedger: async (eventId) => eventLedger(db, eventId),
    analysisTotals: async (eventId) => analysisTotals(db, eventId),
    findCheckpoint: async (eventId, generation) => findCheckpoint(db, eventId, generation),
    recordedActions: async (analysisId) => recordedActions(db, analysisId),
    recordActions: async (analysisId, json) => recordActions(db, analysisId, json),
  };
  const limits: LimitsStore = {
    recordRequest: async (api, keySha256, labels, seconds, readings) =>
      db.transaction(() => {
        observe(
          db,
          api === 'github' ? 'github_request_duration_seconds' : 'anthropic_request_duration_seconds',
          labels,
          seconds,
        );
        if (readings.length > 0) recordRateLimits(db, api, keySha256, readings, now());
      })(),
    observe: async (metric, labels, seconds) => observe(db, metric, labels, seconds),
    latestRateLimit: async (api, keySha256, resource) => latestRateLimit(db, api, keySha256, resource),
    pause: async (scope, untilAt, reason) => pauseScope(db, scope, untilAt, reason, now()),
    activePause: async (scope) => activePause(db, scope, now()),
    takeWriteSlot: async (keySha256, pacing) => takeWriteSlot(db, keySha256, pacing),
    resumePauses: async (request) => resumePauses(db, { ...request, now: now() }),
  };
  const cache: GitHubCacheStore = {
    cachedLabels: async (repository, maxAgeMs) => cachedLabels(db, repository, maxAgeMs, now()),
    storeLabels: async (repository, labels) => storeLabels(db, repository, labels, now()),
    knownLogin: async (tokenSha256) => knownLogin(db, tokenSha256),
    storeLogin: async (tokenSha256, login) => storeLogin(db, tokenSha256, login, now()),
    stickyComment: async (threadKey) => stickyComment(db, threadKey),
    storeStickyComment: async (threadKey, comment) => storeStickyComment(db, threadKey, comment, now()),
    repositoryFile: async (repository, path) => repositoryFile(db, repository, path),
    storeRepositoryFile: async (file) => storeRepositoryFile(db, file, now()),
    touchRepositoryFile: async (repository, path) => touchRepositoryFile(db, repository, path, now()),
    markRepositoryFileWarned: async (repository, path, sha) => markRepositoryFileWarned(db, repository, path, sha),
  };
  const threads: ThreadStore = {
    ignoredThread: async (threadKey) => ignoredThread(db, threadKey),
    setThreadIgnored: async (threadKey, ignored, by) => setThreadIgnored(db, threadKey, ignored, by, now()),
  };
  const workers: WorkerStore = {
    register: async (w) => registerWorker(db, { ...w, started_at: now() }),
    heartbeat: async (self, inFlight, processed) => workerHeartbeat(db, self, now(), inFlight, processed),
    stopped: async (self, processed) => workerStopped(db, self, now(), processed),
  };
  const admin: AdminStore = {
    readStats: async (since, days) => readStats(db, now(), since, days),
    readReport: async (days) => readReport(db, now(), days),
    collectMetrics: async (budgets) => collectMetrics(db, now(), budgets),
    planPrune: async (cutoff, deleteRows) => planPrune(db, cutoff, deleteRows),
    prune: async (cutoff, deleteRows) => prune(db, cutoff, deleteRows),
    reclaimSpace: async () => reclaimSpace(db),
    sizeBytes: async () => fileBytes(path),
  };
  return {
    backend: 'sqlite',
    location: path,
    queue,
    ledger,
    limits,
    cache,
    threads,
    similar: sqliteSimilar(db, now),
    workers,
    admin,
    clock: now,
    close: async () => void db.close(),
  };
}
