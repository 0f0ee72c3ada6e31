import type { LoadedConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { WritePacing } from '../store/types.js';
import { githubReading, retryAfterMs } from './readings.js';
import { routeTemplate } from './routes.js';
import { recordBestEffort } from './record.js';
import { pause, RateLimitWait } from './wait.js';

/**
 * Pacing keeps this fraction (and at least WINDOW_MARGIN_MIN_MS) under each window, for the time between
 * taking a slot and the request arriving: a commit, a database round trip, a loaded machine's scheduling.
 */
const WINDOW_MARGIN = 0.05;
const WINDOW_MARGIN_MIN_MS = 500;
/** A rate-limit answer is waited out and the request sent again at most this often. */
const LIMIT_RETRIES = 2;
/** GitHub: without retry-after, wait at least a minute after a secondary rate limit. */
const SECONDARY_FALLBACK_MS = 60_000;
/** x-ratelimit-reset has a resolution of one second. */
const RESET_MARGIN_MS = 1000;
/** GitHub's limits reset within the hour: a longer wait asked for is taken as an hour. */
const MAX_PAUSE_MS = 3_600_000;
/**
 * A GitHub App's installation client mints its tokens through this gate too: not a content write, and
 * its answer carries the App's (JWT) rate limit, not the installation's.
 */
const TOKEN_MINT = 'POST /app/installations/{id}/access_tokens';

type PacingConfig = LoadedConfig['github']['pacing'];

function writePacing(config: PacingConfig): WritePacing {
  return {
    minIntervalMs: config.min_interval_seconds * 1000,
    windows: config.windows.map((w) => ({
      max: w.max,
      ms: Math.ceil(w.seconds * 1000 + Math.max(w.seconds * 1000 * WINDOW_MARGIN, WINDOW_MARGIN_MIN_MS)),
    })),
  };
}

interface Blocked {
  ms: number;
  reason: string;
}

/** What Octokit hands a request hook: the route (often still a template) and per-request options. */
interface RequestOptions {
  method: string;
  url: string;
  request?: { signal?: AbortSignal | null };
}
interface OctokitAnswer {
  status: number;
  headers: Record<string, string | number | undefined>;
  data?: unknown;
}

/**
 * Keeps every hls process that uses one token inside GitHub's limits, through the SQLite file they
 * share: content-creating requests are paced together, a rate-limit answer pauses them all, and
 * requests wait for the reset when the remaining quota falls under the reserve. Every answer's
 * x-ratelimit-* headers and the request's duration are recorded. It wraps each HTTP request inside
 * plugin-retry, so re-sent requests are paced too. A wait longer than max_wait_seconds throws
 * RateLimitWait, before anything is sent: the worker hands the event back without counting an attempt.
 */
export class GitHubGate {
  private readonly scope: string;
  private readonly pacing: WritePacing;
  private readonly maxWaitMs: number;

  constructor(
    private readonly store: Store,
    private readonly keySha256: string,
    private readonly config: PacingConfig,
    private readonly log: Logger,
  ) {
    this.scope = `github:${keySha256}`;
    this.pacing = writePacing(config);
    this.maxWaitMs = config.max_wait_seconds * 1000;
  }

  readonly wrap = async <O extends RequestOptions, A extends OctokitAnswer>(
    send: (options: O) => A | Promise<A>,
    options: O,
  ): Promise<A> => {
    const method = options.method.toUpperCase();
    const route = `${method} ${routeTemplate(options.url)}`;
    for (let answered = 0; ; answered++) {
      await this.turn(route === TOKEN_MINT ? 'GET' : method, options.request?.signal);
      const started = performance.now();
      try {
        const answer = await send(options);
        await this.record(route, String(answer.status), started, route === TOKEN_MINT ? undefined : answer.headers);
        return answer;
      } catch (error) {
        const answer = (error as { response?: OctokitAnswer }).response;
        await this.record(route, answer ? String(answer.status) : 'error', started, answer?.headers);
        const now = this.store.clock();
        const limit = answer && limitAnswer(answer, now);
        if (!limit) throw error;
        const until = now + limit.ms;
        const reason = `GitHub ${limit.reason} on ${route}`;
        this.log.warn('GitHub rate limit: every hls process pauses', { reason, wait_s: Math.round(limit.ms / 1000) });
        await recordBestEffort(this.log, 'GitHub', () => this.store.limits.pause(this.scope, until, reason));
        if (answered >= LIMIT_RETRIES) throw new RateLimitWait(until, reason);
      }
    }
  };

  /** Waits for pauses, the reserve and (for writes) a pacing slot shared with the other processes. */
  private async turn(method: string, signal: AbortSignal | null | undefined): Promise<void> {
    for (;;) {
      const blocked = await this.blocked();
      const now = this.store.clock();
      if (blocked.ms <= 0 && isWrite(method) && this.config.enabled) {
        const wait = await this.store.limits.takeWriteSlot(this.keySha256, this.pacing);
        if (wait === 0) {
          // A pause another process recorded while this one took its slot holds this write too.
          if (!(await this.store.limits.activePause(this.scope))) return;
          continue;
        }
        // The jitter spreads processes that wait for the same slot.
        Object.assign(blocked, { ms: wait + Math.random() * 5, reason: 'GitHub content-write pacing' });
      }
      if (blocked.ms <= 0) return;
      if (blocked.ms > this.maxWaitMs) throw new RateLimitWait(now + blocked.ms, blocked.reason);
      await pause(blocked.ms, signal);
    }
  }

  private async blocked(): Promise<Blocked> {
    const paused = await this.store.limits.activePause(this.scope);
    const core = await this.store.limits.latestRateLimit('github', this.keySha256, 'core');
    const now = this.store.clock();
    const blocked: Blocked = paused ? { ms: paused.until_at - now, reason: paused.reason } : { ms: 0, reason: '' };
    if (core?.remaining != null && core.reset_at != null && core.remaining < this.config.reserve) {
      const untilReset = Math.min(core.reset_at + RESET_MARGIN_MS - now, MAX_PAUSE_MS);
      if (untilReset > blocked.ms) {
        Object.assign(blocked, {
          ms: untilReset,
          reason: `GitHub rate limit: ${core.remaining} requests left (reserve ${this.config.reserve}), waiting for the reset`,
        });
      }
    }
    return blocked;
  }

  /** The request was sent: failing to record it must not fail it (a retry could post twice). */
  private async record(
    route: string,
    status: string,
    started: number,
    headers: OctokitAnswer['headers'] | undefined,
  ): Promise<void> {
    const seconds = (performance.now() - started) / 1000;
    const reading = headers && githubReading(asHeaders(headers));
    await recordBestEffort(this.log, 'GitHub', () =>
      this.store.limits.recordRequest('github', this.keySha256, { route, status }, seconds, reading ? [reading] : []),
    );
  }
}

function isWrite(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method);
}

function asHeaders(headers: OctokitAnswer['headers']): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) result.set(name, String(value));
  return result;
}

/** A primary (remaining 0) or secondary rate-limit answer, and how long GitHub asks to wait (at most an hour). */
function limitAnswer(answer: OctokitAnswer, now: number): Blocked | undefined {
  if (answer.status !== 403 && answer.status !== 429) return undefined;
  const headers = asHeaders(answer.headers);
  const capped = (ms: number, reason: string): Blocked => ({ ms: Math.min(Math.max(ms, 1000), MAX_PAUSE_MS), reason });
  const retryAfter = retryAfterMs(headers, now);
  if (retryAfter !== undefined) return capped(retryAfter, 'secondary rate limit');
  if (headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(headers.get('x-ratelimit-reset')) * 1000;
    return capped(reset + RESET_MARGIN_MS - now, 'primary rate limit exhausted');
  }
  const message = (answer.data as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && /secondary rate limit/i.test(message)
    ? capped(SECONDARY_FALLBACK_MS, 'secondary rate limit')
    : undefined;
}
