import Anthropic from '@anthropic-ai/sdk';
import type { LoadedConfig } from '../config/load.js';

export function anthropicKey(config: LoadedConfig, env: NodeJS.ProcessEnv): string | undefined {
  return config.claude.api_key ?? (env.ANTHROPIC_API_KEY || undefined);
}

/**
 * The SDK retries 408/409/429/5xx/529 itself, honouring retry-after; the worker's backoff comes after.
 * It would also retry a 429 that means the account's spend limit is reached, which no wait fixes, so
 * such answers are marked `x-should-retry: false` on their way in.
 */
export function createAnthropic(config: LoadedConfig, apiKey: string, env: NodeJS.ProcessEnv): Anthropic {
  return new Anthropic({
    apiKey,
    baseURL: config.claude.base_url ?? (env.ANTHROPIC_BASE_URL || undefined),
    maxRetries: 2,
    timeout: config.claude.timeout_seconds * 1000,
    fetch: noRetryOnSpendLimit,
  });
}

function isSpendLimitBody(body: unknown): boolean {
  const details = (body as { error?: { details?: { error_code?: unknown } } } | null)?.error?.details;
  return details?.error_code === 'enforced_spend_limit_reached';
}

async function noRetryOnSpendLimit(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  if (response.status !== 429) return response;
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: leave the answer as it is
  }
  const headers = new Headers(response.headers);
  if (isSpendLimitBody(body)) headers.set('x-should-retry', 'false');
  return new Response(text, { status: response.status, statusText: response.statusText, headers });
}
