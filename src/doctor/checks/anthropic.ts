import { anthropicKey, createAnthropic } from '../../clients/anthropic.js';
import type { CommandContext } from '../../commands/command-context.js';
import { fail, ok, skip, type Check } from '../check.js';
import { NETWORK_TIMEOUT_MS, publicUrl, rootCause } from './network.js';

/** GET /v1/models with the key: cheap, authenticated, no tokens spent. */
export async function checkAnthropic(context: CommandContext | undefined, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const name = 'anthropic key';
  if (!context) return [skip(name, 'the config did not load')];
  const key = anthropicKey(context.config, env);
  if (!key) {
    return [
      skip(
        name,
        'no key (ANTHROPIC_API_KEY or claude.api_key): the worker renders and records prompts without sending them',
      ),
    ];
  }
  const client = createAnthropic(context.config, key, env);
  const base = publicUrl(client.baseURL);
  try {
    await client.models.list({ limit: 1 }, { maxRetries: 0, timeout: NETWORK_TIMEOUT_MS });
    return [ok(name, `accepted by ${base} (model ${context.config.claude.model})`)];
  } catch (error) {
    return [fail(name, describeAnthropicFailure(error, base))];
  }
}

function describeAnthropicFailure(error: unknown, base: string): string {
  const e = error as { status?: number; type?: string | null; apiMessage?: string | null };
  if (e.status === undefined) {
    return `cannot reach ${base}: ${rootCause(error)} (check claude.base_url / ANTHROPIC_BASE_URL and the network)`;
  }
  const what = `Anthropic ${e.status}${e.type ? ` ${e.type}` : ''}${e.apiMessage ? `: ${e.apiMessage}` : ''}`;
  const hint =
    e.status === 401
      ? 'the key is wrong or revoked: set ANTHROPIC_API_KEY (or claude.api_key) to a valid key'
      : e.status === 403
        ? 'the key may not use this API: check its workspace and permissions'
        : 'check claude.base_url / ANTHROPIC_BASE_URL and the Anthropic status page';
  return `${what}; ${hint}`;
}
