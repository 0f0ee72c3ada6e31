import {
  countRequestTokens,
  DEFAULT_TRIAGE,
  type MessagesRequest,
  type ScriptedReply,
} from '../../src/simulators/anthropic.js';

/**
 * Replies billed exactly at hls's worst-case estimate (every prompt token as a 1 h cache write, the
 * dearest input price, plus all of `maxTokens`), so a budget of k estimates fits exactly k calls
 * whatever order processes reserve and settle in.
 */
export function billedAtWorstCase(maxTokens: number): (request: MessagesRequest) => ScriptedReply {
  return (request) => {
    const tokens = countRequestTokens(request);
    return {
      kind: 'json',
      value: structuredClone(DEFAULT_TRIAGE),
      usage: {
        input_tokens: 0,
        cache_creation_input_tokens: tokens,
        cache_read_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: tokens },
        output_tokens: maxTokens,
      },
    };
  };
}
