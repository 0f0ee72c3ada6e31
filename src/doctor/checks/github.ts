import { createGitHub, githubToken } from '../../clients/github.js';
import { checkGitHubApp } from './github-app.js';
import type { CommandContext } from '../../commands/command-context.js';
import { fail, ok, skip, type Check } from '../check.js';
import { NETWORK_TIMEOUT_MS, publicUrl, rootCause } from './network.js';

/** GET /user (who the token is) and GET /rate_limit (what is left), without retries. */
export async function checkGitHub(context: CommandContext | undefined, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const name = 'github token';
  if (!context) return [skip(name, 'the config did not load')];
  if (context.config.github.app) return checkGitHubApp(context, env);
  const token = githubToken(context.config, env);
  if (!token) {
    return [
      skip(
        name,
        'no token (GITHUB_TOKEN or github.token): diffs, logs and labels are not fetched, and actions are only recorded',
      ),
    ];
  }
  // No shared rate-limit gate: its waits could last until the reset; doctor reports the limit instead.
  const github = createGitHub(context.config, { kind: 'token', token }, context.log, env);
  const base = publicUrl(context.config.github.api_url ?? (env.GITHUB_API_URL || 'https://api.github.com'));
  const request = { retries: 0, signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS) };
  try {
    const user = await github.rest.users.getAuthenticated({ request });
    const limits = await github.rest.rateLimit.get({ request });
    const core = limits.data.resources.core;
    const scopes = user.headers['x-oauth-scopes'];
    const who = `${user.data.login} (${user.data.type}${scopes ? `, scopes: ${scopes}` : ''}) on ${base}`;
    if (core.remaining === 0) {
      const reset = new Date(core.reset * 1000).toISOString();
      return [fail(name, `${who}: the core rate limit is exhausted (0/${core.limit}) until ${reset}`)];
    }
    return [ok(name, `${who}; rate limit ${core.remaining}/${core.limit} left`)];
  } catch (error) {
    return [fail(name, describeGitHubFailure(error, base))];
  }
}

const TOKEN_REFUSED = 'the token is wrong, expired or revoked: set GITHUB_TOKEN (or github.token) to a valid token';

/** One line for a failed doctor request; `refused` says what to fix on a 401. */
export function describeGitHubFailure(error: unknown, base: string, refused = TOKEN_REFUSED): string {
  const e = error as {
    status?: number;
    request?: { method?: string; url?: string };
    response?: { data?: unknown };
  };
  if (e.response === undefined) {
    return `cannot reach GitHub at ${base}: ${rootCause(error)} (check github.api_url / GITHUB_API_URL and the network)`;
  }
  const data = (e.response.data ?? {}) as { message?: unknown };
  const message = typeof data.message === 'string' ? data.message : 'no message';
  const route = e.request?.url ? ` on ${e.request.method ?? 'GET'} ${new URL(e.request.url).pathname}` : '';
  const hint =
    e.status === 401
      ? refused
      : e.status === 403
        ? "the token is refused (rate limit or policy): check its permissions and GitHub's message"
        : 'check github.api_url / GITHUB_API_URL';
  return `GitHub ${e.status}${route}: ${message}; ${hint}`;
}
