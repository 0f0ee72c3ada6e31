import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { anthropicReadings, retryAfterMs } from './readings.js';
import { recordBestEffort } from './record.js';
import { pause, RateLimitWait } from './wait.js';

/** A pause this short is slept through inside the request; a longer one hands the event back. */
export const SHORT_PAUSE_MS = 5000;
/** A retry-after longer than this is taken as this. */
const MAX_PAUSE_MS = 3_600_000;

export const spendScope = (keySha256: string): string => `anthropic-spend:${keySha256}`;
export const modelScope = (keySha256: string): string => `anthropic:${keySha256}`;

/**
 * A 429 that means the account's spend limit is reached, which no wait fixes: the answer is given back
 * marked `x-should-retry: false`, so that the SDK does not retry it.
 */
export async function markSpendLimit(response: Response): Promise<{ response: Response; spendLimit: boolean }> {
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: leave the answer as it is
  }
  const details = (body as { error?: { details?: { error_code?: unknown } } } | null)?.error?.details;
  const spendLimit = details?.error_code === 'enforced_spend_limit_reached';
  const headers = new Headers(response.headers);
  if (spendLimit) headers.set('x-should-retry', 'false');
  const marked = new Response(text, { status: response.status, statusText: response.statusText, headers });
  return { response: marked, spendLimit };
}

/**
 * The Anthropic API as every hls process sees it together: a 429/529 with retry-after pauses the model
 * calls of all processes until then (a request that meets a pause longer than SHORT_PAUSE_MS throws
 * RateLimitWait instead of sleeping); a spend-limit 429 stops them for `spendRecheckMs`; rate-limit
 * headers and durations are recorded.
 */
export class AnthropicGate {
  constructor(
    private readonly store: Store,
    private readonly keySha256: string,
    private readonly spendRecheckMs: number,
    private readonly log: Logger,
  ) {}

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const paused = await this.store.limits.activePause(modelScope(this.keySha256));
    if (paused) {
      const wait = paused.until_at - this.store.clock();
      if (wait > SHORT_PAUSE_MS) throw new RateLimitWait(paused.until_at, paused.reason);
      await pause(wait, init?.signal);
    }
    const route = `${(init?.method ?? 'GET').toUpperCase()} ${new URL(input instanceof Request ? input.url : input).pathname}`;
    const started = performance.now();
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (error) {
      await this.record(route, 'error', started, undefined);
      throw error;
    }
    await this.record(route, String(response.status), started, response.headers);
    if (response.status === 429) return this.rateLimited(response);
    if (response.status === 529) await this.pauseFor(response, 'overloaded (529)');
    return response;
  };

  private async rateLimited(response: Response): Promise<Response> {
    const marked = await markSpendLimit(response);
    if (!marked.spendLimit) {
      await this.pauseFor(response, 'rate limited (429)');
      return marked.response;
    }
    const now = this.store.clock();
    this.log.error('Anthropic spend limit reached: model calls stop in every hls process', {
      recheck_at: new Date(now + this.spendRecheckMs).toISOString(),
    });
    await recordBestEffort(this.log, 'Anthropic', () =>
      this.store.limits.pause(spendScope(this.keySha256), now + this.spendRecheckMs, 'Anthropic spend limit reached'),
    );
    return marked.response;
  }

  private async pauseFor(response: Response, reason: string): Promise<void> {
    const now = this.store.clock();
    const asked = retryAfterMs(response.headers, now);
    if (asked === undefined) return;
    const wait = Math.min(asked, MAX_PAUSE_MS);
    this.log.warn('Anthropic asks to wait: model calls pause in every hls process', { reason, wait_s: wait / 1000 });
    await recordBestEffort(this.log, 'Anthropic', () =>
      this.store.limits.pause(modelScope(this.keySha256), now + wait, `Anthropic ${reason}`),
    );
  }

  private async record(route: string, status: string, started: number, headers: Headers | undefined): Promise<void> {
    const seconds = (performance.now() - started) / 1000;
    const readings = headers ? anthropicReadings(headers) : [];
    await recordBestEffort(this.log, 'Anthropic', () =>
      this.store.limits.recordRequest('anthropic', this.keySha256, { route, status }, seconds, readings),
    );
  }
}
