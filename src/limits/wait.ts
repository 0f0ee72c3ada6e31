import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A rate limit asks for a longer wait than is worth holding an event for: the worker puts the event
 * back in the queue until `deferUntil`, without counting an attempt.
 */
export class RateLimitWait extends Error {
  constructor(
    readonly deferUntil: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'RateLimitWait';
  }
}

/** Sleeps, waking early (with the signal's reason) when the request is aborted. */
export async function pause(ms: number, signal?: AbortSignal | null): Promise<void> {
  if (ms <= 0) return;
  await sleep(ms, undefined, signal ? { signal } : undefined);
}
