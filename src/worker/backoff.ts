export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before attempt `attempt + 1`: exponential (base · 2^(attempt-1), capped) with "equal jitter",
 * i.e. uniformly between half and all of it, so that events failing together do not retry together.
 * A server's Retry-After is a floor.
 */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, retryAfterMs = 0, random = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential / 2 + random() * (exponential / 2);
  return Math.round(Math.max(jittered, retryAfterMs));
}
