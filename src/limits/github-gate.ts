import type { LoadedConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import { observe } from '../store/metrics.js';
import type { Db } from '../store/open.js';
import {
  activePause,
  latestRateLimit,
  pauseScope,
  recordRateLimits,
  takeWriteSlot,
  writeWaitNow,
  type WritePacing,
} from '../store/rate-limits.js';
import { githubReading, retryAfterMs } from './readings.js';
import { routeTemplate } from './routes.js';
import { pause, RateLimitWait } from './wait.js';

/** Pacing keeps this fraction under each window, for the jitter between taking a slot and arriving. */
const WINDOW_MARGIN = 0.05;
/** A rate-limit answer is waited out and the request sent again at most this often. */
const LIMIT_RETRIES = 2;
/** GitHub: without retry-after, wait at least a minute after a secondary rate limit. */
const SECONDARY_FALLBACK_MS = 60_000;
/** x-ratelimit-reset has a resolution of one second. */
const RESET_MARGIN_MS = 1000;

type PacingConfig = LoadedConfig['github']['pacing'];

export function writePacing(config: PacingConfig): WritePacing {
  return {
    minIntervalMs: config.min_interval_seconds * 1000,
    windows: config.windows.map((w) => ({ max: w.max, ms: Math.ceil(w.seconds * 1000 * (1 + WINDOW_MARGIN)) })),
  };
}

interface Blocked {
  ms: number;
  reason: string;
}

/**
 * Keeps every hls process that uses one token inside GitHub's limits, through the SQLite file they
 * share: content-creating requests are paced together, a rate-limit answer pauses them all, and
 * requests wait for the reset when the remaining quota falls under the reserve. Every answer's
 * x-ratelimit-* headers and the request's duration are recorded.
 */
export class GitHubGate {
  private readonly scope: string;
  private readonly pacing: WritePacing;
  private readonly maxWaitMs: number;

  constructor(
    private readonly db: Db,
    private readonly keySha256: string,
    private readonly config: PacingConfig,
    private readonly log: Logger,
  ) {
    this.scope = `github:${keySha256}`;
    this.pacing = writePacing(config);
    this.maxWaitMs = config.max_wait_seconds * 1000;
  }

  /** Before Octokit sends anything: a wait longer than max_wait_seconds hands the event back instead. */
  checkWait(method: string): void {
    const now = Date.now();
    const blocked = this.blocked(now);
    if (isWrite(method) && this.config.enabled) {
      const pacingMs = writeWaitNow(this.db, this.keySha256, this.pacing, now);
      if (pacingMs > blocked.ms) Object.assign(blocked, { ms: pacingMs, reason: 'GitHub content-write pacing' });
    }
    if (blocked.ms > this.maxWaitMs) throw new RateLimitWait(now + blocked.ms, blocked.reason);
  }

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const method = (init?.method ?? 'GET').toUpperCase();
    const route = `${method} ${routeTemplate(new URL(input instanceof Request ? input.url : input).pathname)}`;
    for (let answered = 0; ; answered++) {
      await this.turn(method, init?.signal);
      const started = performance.now();
      let response: Response;
      try {
        response = await fetch(input, init);
      } catch (error) {
        this.record(route, 'error', started, undefined);
        throw error;
      }
      this.record(route, String(response.status), started, response.headers);
      const limit = await limitAnswer(response, Date.now());
      if (!limit) return response;
      this.log.warn('GitHub rate limit: every hls process pauses', {
        route,
        kind: limit.reason,
        wait_s: Math.round(limit.ms / 1000),
      });
      this.safely(() => pauseScope(this.db, this.scope, Date.now() + limit.ms, limit.reason, Date.now()));
      if (answered >= LIMIT_RETRIES || limit.ms > this.maxWaitMs) return response;
    }
  };

  /** Waits for pauses, the reserve and (for writes) a pacing slot shared with the other processes. */
  private async turn(method: string, signal: AbortSignal | null | undefined): Promise<void> {
    for (;;) {
      const now = Date.now();
      const blocked = this.blocked(now);
      if (blocked.ms > 0) {
        await pause(blocked.ms, signal);
        continue;
      }
      if (!isWrite(method) || !this.config.enabled) return;
      const wait = takeWriteSlot(this.db, this.keySha256, this.pacing);
      if (wait === 0) return;
      // The jitter spreads processes that wait for the same slot.
      await pause(wait + Math.random() * 5, signal);
    }
  }

  private blocked(now: number): Blocked {
    const paused = activePause(this.db, this.scope, now);
    const blocked: Blocked = paused ? { ms: paused.until_at - now, reason: paused.reason } : { ms: 0, reason: '' };
    const core = latestRateLimit(this.db, 'github', this.keySha256, 'core');
    if (core?.remaining != null && core.reset_at != null && core.remaining < this.config.reserve) {
      const untilReset = core.reset_at + RESET_MARGIN_MS - now;
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
  private record(route: string, status: string, started: number, headers: Headers | undefined): void {
    this.safely(() =>
      this.db.transaction(() => {
        observe(this.db, 'github_request_duration_seconds', { route, status }, (performance.now() - started) / 1000);
        const reading = headers && githubReading(headers);
        if (reading) recordRateLimits(this.db, 'github', this.keySha256, [reading], Date.now());
      })(),
    );
  }

  private safely(write: () => void): void {
    try {
      write();
    } catch (error) {
      this.log.warn('could not record GitHub rate-limit state', { error: (error as Error).message });
    }
  }
}

function isWrite(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}

/** A primary (remaining 0) or secondary rate-limit answer, and how long GitHub asks to wait. */
async function limitAnswer(response: Response, now: number): Promise<Blocked | undefined> {
  if (response.status !== 403 && response.status !== 429) return undefined;
  const headers = response.headers;
  const retryAfter = retryAfterMs(headers, now);
  if (retryAfter !== undefined) return { ms: Math.max(retryAfter, 1000), reason: 'secondary rate limit' };
  if (headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(headers.get('x-ratelimit-reset')) * 1000;
    return { ms: Math.max(reset + RESET_MARGIN_MS - now, 1000), reason: 'primary rate limit exhausted' };
  }
  const text = await response
    .clone()
    .text()
    .catch(() => '');
  return /secondary rate limit/i.test(text) ? { ms: SECONDARY_FALLBACK_MS, reason: 'secondary rate limit' } : undefined;
}
