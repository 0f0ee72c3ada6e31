import Anthropic from '@anthropic-ai/sdk';
import type { LoadedConfig } from '../config/load.js';
import { AnthropicGate, markSpendLimit } from '../limits/anthropic-gate.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { tokenSha256 } from './github.js';

export function anthropicKey(config: LoadedConfig, env: NodeJS.ProcessEnv): string | undefined {
  return config.claude.api_key ?? (env.ANTHROPIC_API_KEY || undefined);
}

/**
 * The SDK retries 408/409/429/5xx/529 itself, honouring retry-after; the worker's backoff comes after.
 * A spend-limit 429 is never retried (see markSpendLimit). With the database, requests go through the
 * gate all hls processes share.
 */
export function createAnthropic(
  config: LoadedConfig,
  apiKey: string,
  env: NodeJS.ProcessEnv,
  shared?: { store: Store; log: Logger },
): Anthropic {
  const gate =
    shared &&
    new AnthropicGate(shared.store, tokenSha256(apiKey), config.claude.spend_limit_recheck_seconds * 1000, shared.log);
  return new Anthropic({
    apiKey,
    baseURL: config.claude.base_url ?? (env.ANTHROPIC_BASE_URL || undefined),
    maxRetries: 2,
    timeout: config.claude.timeout_seconds * 1000,
    fetch: gate ? gate.fetch : noRetryOnSpendLimit,
  });
}

async function noRetryOnSpendLimit(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  return response.status === 429 ? (await markSpendLimit(response)).response : response;
}
