/** USD per million tokens. */
export interface TokenPrices {
  input: number;
  cache_write_5m: number;
  cache_write_1h: number;
  cache_read: number;
  output: number;
}

export interface ModelPrices extends TokenPrices {
  /** Some models charge every token of a long prompt at other prices. */
  long_context?: TokenPrices & { above_tokens: number };
}

/** Published prices as of 2026-11 (DESIGN.md §3); config `claude.prices` overrides them per model. */
export const DEFAULT_PRICES: Record<string, ModelPrices> = {
  'claude-opus-5-5': { input: 4, cache_write_5m: 5, cache_write_1h: 8, cache_read: 0.2, output: 20 },
  'claude-sonnet-5-5': { input: 2, cache_write_5m: 2.5, cache_write_1h: 4, cache_read: 0.2, output: 10 },
  'claude-haiku-5-5': {
    input: 0.1,
    cache_write_5m: 0.125,
    cache_write_1h: 0.2,
    cache_read: 0.01,
    output: 0.5,
    long_context: {
      above_tokens: 100_000,
      input: 0.5,
      cache_write_5m: 0.625,
      cache_write_1h: 1,
      cache_read: 0.05,
      output: 2.5,
    },
  },
  'claude-haiku-4-5': { input: 1, cache_write_5m: 1.25, cache_write_1h: 2, cache_read: 0.1, output: 5 },
};
