import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedConfig } from '../config/load.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { Logger } from '../log.js';
import { isDatabaseUnavailable } from '../store/errors.js';
import type { Store } from '../store/store.js';
import type { EventRow, Lease, Outcome, WorkerSelf } from '../store/types.js';
import { retryDelayMs, type BackoffPolicy } from './backoff.js';
import { classifyError, requestedDeferral } from './errors.js';
import type { HandlerRegistry } from './handlers.js';

/** Longest wait between two tries while the database fails (full disk, I/O error). */
const DATABASE_BACKOFF_MAX_MS = 30_000;

export interface WorkerOptions {
  id: string;
  concurrency: number;
  pollMs: number;
  /** Wake on the store's notifications (PostgreSQL LISTEN) as well as every `pollMs`. */
  listen: boolean;
  leaseMs: number;
  graceMs: number;
  maxAttempts: number;
  backoff: BackoffPolicy;
  once: boolean;
  dryRun: boolean;
}

interface Deferral {
  status: 'deferred';
  until: number;
  reason: string;
}

interface Job {
  lease: Lease;
  event: EventRow;
  controller: AbortController;
  done: Promise<void>;
  /** Set when the event was given back or taken over; its result must then not be written. */
  abandoned: boolean;
  /** Set once its result is being written: the lease ends then, and that is not a loss. */
  finishing: boolean;
}

/** Claims due events and runs up to `concurrency` of them at once, each under a lease kept alive by a heartbeat. */
export class Worker {
  private readonly jobs = new Map<number, Job>();
  private stopping = false;
  private lastRescueAt = 0;
  private processed = 0;
  private registered = false;
  /** Consecutive loop turns that failed on the database; 0 once one succeeds. */
  private databaseFailures = 0;
  private wake: () => void = () => {};
  /** Set when an event was queued since the last claim (LISTEN), so the next idle() returns at once. */
  private notified = false;
  private heartbeating = false;

  constructor(
    private readonly store: Store,
    private readonly registry: HandlerRegistry,
    private readonly config: LoadedConfig,
    private readonly options: WorkerOptions,
    private readonly log: Logger,
  ) {}

  async run(): Promise<void> {
    const heartbeat = setInterval(() => void this.heartbeat(), Math.max(50, this.options.leaseMs / 3));
    const unlisten = await this.listen();
    try {
      while (!this.stopping) {
        let claimed: number;
        try {
          await this.register();
          await this.rescue();
          claimed = await this.fillSlots();
          this.databaseFailures = 0;
        } catch (error) {
          await this.backOff(error);
          continue;
        }
        if (this.options.once && claimed === 0 && this.jobs.size === 0) break;
        await this.idle(claimed > 0 && this.jobs.size < this.options.concurrency ? 0 : this.options.pollMs);
      }
      await this.drain();
    } finally {
      clearInterval(heartbeat);
      await unlisten();
      await this.recordStopped();
    }
    this.log.info('worker stopped', { worker: this.options.id, processed: this.processed });
  }

  /** Stop claiming; in-flight events get the grace period to finish. */
  stop(): void {
    this.stopping = true;
    this.wake();
  }

  /** Give every in-flight event back at once (second signal). */
  abandonAll(): void {
    this.stopping = true;
    for (const job of this.jobs.values()) void this.giveBack(job);
    this.wake();
  }

  /**
   * Wakes the loop when any process queues or replays an event (PostgreSQL LISTEN), so an idle worker
   * claims it at once; the poll interval stays the fallback, and a failure to listen only costs latency.
   */
  private async listen(): Promise<() => Promise<void>> {
    if (!this.options.listen) return async () => {};
    try {
      return await this.store.queue.listen(() => {
        this.notified = true;
        this.wake();
      });
    } catch (error) {
      this.log.warn('cannot listen for new events; polling only', {
        worker: this.options.id,
        error: (error as Error).message,
      });
      return async () => {};
    }
  }

  private self(): WorkerSelf {
    return { id: this.options.id, pid: process.pid, host: hostname() };
  }

  /**
   * Takes over this id's row in the workers table (refused while a live worker holds it); retried by the
   * loop until the database accepts it. The worker counts as started from then on.
   */
  private async register(): Promise<void> {
    if (this.registered) return;
    await this.store.workers.register({
      ...this.self(),
      lease_ms: this.options.leaseMs,
      concurrency: this.options.concurrency,
    });
    this.registered = true;
    this.log.info('worker started', { worker: this.options.id, concurrency: this.options.concurrency });
  }

  /**
   * A database that fails (full disk, I/O error, lock held too long) is waited out: a bounded, growing,
   * interruptible delay, so the worker neither spins nor stops answering signals. A corrupt database, a
   * bug (not a database error) and `--once` end the worker instead.
   */
  private async backOff(error: unknown): Promise<void> {
    if (!isDatabaseUnavailable(error)) throw error;
    const code = (error as { code?: string }).code ?? 'unavailable';
    const message = (error as Error).message;
    if (this.options.once) throw new CliError(`database unavailable (${code}: ${message})`, EXIT.TEMP_FAIL);
    this.databaseFailures++;
    // At most half a lease: once the database is back, the leases that expired meanwhile (every worker's,
    // on every host) are rescued by whichever worker tries first, instead of waiting out a long back-off.
    const maxMs = Math.min(DATABASE_BACKOFF_MAX_MS, Math.max(this.options.pollMs, this.options.leaseMs / 2));
    const delay = retryDelayMs(this.databaseFailures, { baseMs: this.options.pollMs, maxMs });
    this.log.error('database error; backing off', {
      worker: this.options.id,
      code,
      error: message,
      failures: this.databaseFailures,
      retry_in_ms: delay,
    });
    await this.idle(delay);
  }

  private async recordStopped(): Promise<void> {
    if (!this.registered) return;
    try {
      await this.store.workers.stopped(this.self(), this.processed);
    } catch (error) {
      this.log.warn('could not record that the worker stopped', {
        worker: this.options.id,
        error: (error as Error).message,
      });
    }
  }

  private async fillSlots(): Promise<number> {
    let claimed = 0;
    this.notified = false;
    while (!this.stopping && this.jobs.size < this.options.concurrency) {
      const event = await this.store.queue.claim(this.options.id, this.options.leaseMs);
      if (!event) break;
      claimed++;
      this.start(event);
    }
    return claimed;
  }

  private start(event: EventRow): void {
    const job: Job = {
      lease: { id: event.id, worker: this.options.id, attempt: event.attempts },
      event,
      controller: new AbortController(),
      done: Promise.resolve(),
      abandoned: false,
      finishing: false,
    };
    this.jobs.set(event.id, job);
    job.done = this.process(job).finally(() => {
      this.jobs.delete(event.id);
      this.wake();
    });
  }

  private async process(job: Job): Promise<void> {
    const { event } = job;
    const fields = eventFields(event);
    const started = Date.now();
    this.log.debug('claimed', { ...fields, attempt: event.attempts });
    let outcome: Outcome | Deferral;
    try {
      outcome = await this.handle(job);
    } catch (error) {
      const verdict = classifyError(error);
      const exhausted = event.attempts >= this.options.maxAttempts;
      const deferral = requestedDeferral(error);
      outcome = deferral
        ? { status: 'deferred', ...deferral }
        : verdict.kind === 'transient' && !exhausted
          ? {
              status: 'retry',
              runAt: this.store.clock() + retryDelayMs(event.attempts, this.options.backoff, verdict.retryAfterMs),
              errorClass: verdict.errorClass,
              message: verdict.message,
            }
          : { status: 'failed', errorClass: verdict.errorClass, message: verdict.message };
    }
    if (job.abandoned) return;
    job.finishing = true;
    let written: boolean;
    try {
      written =
        outcome.status === 'deferred'
          ? await this.store.queue.returnToQueue(job.lease, outcome.until, outcome.reason)
          : await this.store.queue.finish(job.lease, outcome);
    } catch (error) {
      this.log.error('could not record the result; the event runs again once its lease expires', {
        ...fields,
        status: outcome.status,
        error: (error as Error).message,
      });
      return;
    }
    const duration_ms = Date.now() - started;
    if (written && outcome.status !== 'deferred') this.processed++;
    if (written) await this.recordDuration(event, outcome.status, duration_ms);
    if (!written) {
      this.log.warn('lease lost before the result was written; another worker owns the event now', fields);
    } else if (outcome.status === 'completed') {
      this.log.info('completed', { ...fields, duration_ms });
    } else if (outcome.status === 'skipped') {
      this.log.info('skipped', { ...fields, reason: outcome.reason });
    } else if (outcome.status === 'deferred') {
      this.log.info('deferred', { ...fields, reason: outcome.reason, until: new Date(outcome.until).toISOString() });
    } else {
      const level = outcome.status === 'failed' ? 'error' : 'warn';
      this.log[level](outcome.status === 'failed' ? 'failed' : 'will retry', {
        ...fields,
        attempt: event.attempts,
        error_class: outcome.errorClass,
        error: outcome.message,
        ...(outcome.status === 'retry' ? { retry_at: new Date(outcome.runAt).toISOString() } : {}),
      });
    }
  }

  /** Feeds hls_event_processing_seconds; failing to record it never changes the event's outcome. */
  private async recordDuration(event: EventRow, outcome: string, ms: number): Promise<void> {
    try {
      await this.store.limits.observe('event_processing_seconds', { event: event.event_type, outcome }, ms / 1000);
    } catch (error) {
      this.log.warn('could not record the processing time', { ...eventFields(event), error: (error as Error).message });
    }
  }

  private async handle(job: Job): Promise<Outcome | Deferral> {
    const { event } = job;
    const handler = this.registry.get(event.event_type);
    if (!handler) return { status: 'skipped', reason: 'no handler' };
    if (event.payload === null) throw Object.assign(new Error('payload was pruned'), { retryable: false });
    const payload = JSON.parse(event.payload.toString('utf8')) as Record<string, unknown>;
    const result = await handler({
      event,
      payload,
      signal: job.controller.signal,
      log: this.log,
      config: this.config,
      store: this.store,
      dryRun: this.options.dryRun,
    });
    if (result && 'skipped' in result) return { status: 'skipped', reason: result.skipped };
    if (result && 'deferred' in result) return { status: 'deferred', ...result.deferred };
    return { status: 'completed' };
  }

  /** One at a time: a slow database must not pile heartbeats up. */
  private async heartbeat(): Promise<void> {
    if (this.heartbeating) return;
    this.heartbeating = true;
    try {
      await this.beat();
    } finally {
      this.heartbeating = false;
    }
  }

  private async beat(): Promise<void> {
    try {
      await this.store.workers.heartbeat(this.self(), this.jobs.size, this.processed);
    } catch (error) {
      this.log.warn('worker heartbeat failed; will try again', {
        worker: this.options.id,
        error: (error as Error).message,
      });
    }
    for (const job of this.jobs.values()) {
      if (job.abandoned || job.finishing) continue;
      try {
        const extended = await this.store.queue.extendLease(job.lease, this.options.leaseMs);
        if (!extended && !job.abandoned && !job.finishing) {
          job.abandoned = true;
          job.controller.abort(new Error('lease lost'));
          this.log.warn('lease lost; abandoning the event', eventFields(job.event));
        }
      } catch (error) {
        this.log.warn('heartbeat failed; will try again', {
          ...eventFields(job.event),
          error: (error as Error).message,
        });
      }
    }
  }

  /** At most once a second: it is a write, and every idle worker would otherwise take the lock each poll. */
  private async rescue(): Promise<void> {
    const now = Date.now();
    if (now - this.lastRescueAt < Math.min(1000, this.options.leaseMs)) return;
    this.lastRescueAt = now;
    for (const rescued of await this.store.queue.rescueExpiredLeases(this.options.maxAttempts)) {
      this.log.warn('reclaimed an event whose lease expired', {
        event_id: rescued.id,
        delivery_id: rescued.delivery_id,
        status: rescued.status,
        attempt: rescued.attempts,
      });
    }
  }

  /** Timers are unref'd: the heartbeat interval keeps the process alive while run() is active. */
  private async idle(ms: number): Promise<void> {
    if (ms === 0 || this.stopping || this.notified) return;
    const woken = new Promise<void>((resolve) => (this.wake = resolve));
    await Promise.race([sleep(ms, undefined, { ref: false }), woken]);
  }

  /** Waits for in-flight events up to the grace period, then hands the rest back to the queue. */
  private async drain(): Promise<void> {
    if (this.jobs.size === 0) return;
    this.log.info('waiting for in-flight events', {
      worker: this.options.id,
      in_flight: this.jobs.size,
      grace_ms: this.options.graceMs,
    });
    const allDone = Promise.all([...this.jobs.values()].map((job) => job.done));
    const graceOver = sleep(this.options.graceMs, 'timeout' as const, { ref: false });
    if ((await Promise.race([allDone, graceOver])) === 'timeout') {
      await Promise.all([...this.jobs.values()].map((job) => this.giveBack(job)));
    }
  }

  private async giveBack(job: Job): Promise<void> {
    if (job.abandoned) return;
    job.abandoned = true;
    job.controller.abort(new Error('worker shutting down'));
    try {
      if (await this.store.queue.returnToQueue(job.lease, this.store.clock(), null)) {
        this.log.info('returned to the queue (attempt not counted)', eventFields(job.event));
      }
    } catch (error) {
      this.log.error('could not return the event to the queue; it runs again once its lease expires', {
        ...eventFields(job.event),
        error: (error as Error).message,
      });
    }
  }
}

export function eventFields(event: EventRow): Record<string, unknown> {
  return { event_id: event.id, delivery_id: event.delivery_id, event: event.event_type, repository: event.repository };
}
