import { DEFAULT_PRICES, type ModelPrices, type TokenPrices } from '../config/prices.js';

/** Token counts as the Messages API reports them in `usage`. */
export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
}

/** A configuration mistake: retrying cannot help, so the event fails at once with this message. */
export class UnknownModelPriceError extends Error {
  readonly retryable = false;
}

export function pricesFor(model: string, configured: Record<string, ModelPrices>): ModelPrices {
  const prices = configured[model] ?? DEFAULT_PRICES[model];
  if (!prices) {
    throw new UnknownModelPriceError(`no prices for model "${model}": add claude.prices["${model}"] to the config`);
  }
  return prices;
}

function tierFor(prices: ModelPrices, promptTokens: number): TokenPrices {
  return prices.long_context && promptTokens > prices.long_context.above_tokens ? prices.long_context : prices;
}

/** USD of one call: (input·in + 5m·w5 + 1h·w1 + cache_read·read + output·out) / 1e6. */
export function costUsd(usage: TokenUsage, prices: ModelPrices): number {
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const write1h = usage.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  const write5m = usage.cache_creation?.ephemeral_5m_input_tokens ?? cacheWrite - write1h;
  const tier = tierFor(prices, usage.input_tokens + cacheWrite + cacheRead);
  return (
    (usage.input_tokens * tier.input +
      write5m * tier.cache_write_5m +
      write1h * tier.cache_write_1h +
      cacheRead * tier.cache_read +
      usage.output_tokens * tier.output) /
    1e6
  );
}

/**
 * An upper bound of a call's cost before it is made: every prompt token at the dearest input rate
 * (a cache write costs more than plain input) and the full max_tokens of output.
 */
export function maxCostUsd(promptTokens: number, maxTokens: number, prices: ModelPrices): number {
  const tier = tierFor(prices, promptTokens);
  const dearestInput = Math.max(tier.input, tier.cache_write_5m, tier.cache_write_1h, tier.cache_read);
  return (promptTokens * dearestInput + maxTokens * tier.output) / 1e6;
}

/** Tokens of message framing the API adds around the texts (roles, turn markers); generous. */
const FRAMING_TOKENS = 64;

/**
 * An upper bound of the prompt tokens of `texts` without asking the API: a token covers at least one
 * byte of UTF-8, so there are never more tokens than bytes.
 */
export function promptTokenBound(texts: string[]): number {
  return texts.reduce((total, text) => total + Buffer.byteLength(text, 'utf8'), FRAMING_TOKENS);
}
