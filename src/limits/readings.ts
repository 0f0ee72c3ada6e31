import type { RateLimitReading } from '../store/types.js';

function integer(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  return Number(value);
}

/** GitHub's x-ratelimit-{limit,remaining,used,reset,resource}; reset is in epoch seconds. */
export function githubReading(headers: Headers): RateLimitReading | undefined {
  const limit = integer(headers.get('x-ratelimit-limit'));
  const remaining = integer(headers.get('x-ratelimit-remaining'));
  if (limit === null && remaining === null) return undefined;
  const reset = integer(headers.get('x-ratelimit-reset'));
  return {
    resource: headers.get('x-ratelimit-resource') ?? 'core',
    limit,
    remaining,
    used: integer(headers.get('x-ratelimit-used')),
    resetAt: reset === null ? null : reset * 1000,
  };
}

const ANTHROPIC_RESOURCES = ['requests', 'tokens', 'input-tokens', 'output-tokens'];

/** anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}; reset is RFC 3339. */
export function anthropicReadings(headers: Headers): RateLimitReading[] {
  return ANTHROPIC_RESOURCES.flatMap((resource) => {
    const prefix = `anthropic-ratelimit-${resource}-`;
    const limit = integer(headers.get(`${prefix}limit`));
    const remaining = integer(headers.get(`${prefix}remaining`));
    if (limit === null && remaining === null) return [];
    const reset = Date.parse(headers.get(`${prefix}reset`) ?? '');
    return [{ resource, limit, remaining, used: null, resetAt: Number.isNaN(reset) ? null : reset }];
  });
}

/** Retry-After in ms: delta-seconds or an HTTP date. */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
