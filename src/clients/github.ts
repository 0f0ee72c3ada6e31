import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import type { LoadedConfig } from '../config/load.js';
import type { Logger } from '../log.js';

const HlsOctokit = Octokit.plugin(throttling, retry);
export type GitHub = InstanceType<typeof HlsOctokit>;

/** Retries a rate-limited request at most this often before the worker's own backoff takes over. */
const RATE_LIMIT_RETRIES = 2;

export function githubToken(config: LoadedConfig, env: NodeJS.ProcessEnv): string | undefined {
  return config.github.token ?? (env.GITHUB_TOKEN || undefined);
}

/** Octokit with throttling and retry; `github.api_url` > GITHUB_API_URL > api.github.com. */
export function createGitHub(config: LoadedConfig, token: string, log: Logger, env: NodeJS.ProcessEnv): GitHub {
  const onLimit =
    (kind: string) =>
    (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
      log.warn(`GitHub ${kind} rate limit`, { route: `${options.method} ${options.url}`, retry_after_s: retryAfter });
      return retryCount < RATE_LIMIT_RETRIES;
    };
  return new HlsOctokit({
    auth: token,
    baseUrl: (config.github.api_url ?? (env.GITHUB_API_URL || 'https://api.github.com')).replace(/\/$/, ''),
    userAgent: 'hls',
    log: { debug: () => {}, info: () => {}, warn: (message: string) => log.warn(message), error: () => {} },
    throttle: config.github.throttle
      ? { onRateLimit: onLimit('primary'), onSecondaryRateLimit: onLimit('secondary') }
      : { enabled: false },
    retry: { retries: 2 },
  });
}

/**
 * One line for a failed GitHub call: status, route, GitHub's message and validation details, and on
 * 401/403/404 `accessHint` (never the token: Octokit redacts it from the request it keeps).
 */
export function describeGitHubError(error: unknown, accessHint: string): string {
  const e = error as {
    status?: number;
    message?: string;
    request?: { method?: string; url?: string };
    response?: { data?: unknown };
  };
  if (e.response === undefined) return `cannot reach GitHub: ${e.message ?? String(error)}`;
  const data = (e.response.data ?? {}) as { message?: unknown; errors?: unknown };
  const message = typeof data.message === 'string' ? data.message : 'no message';
  const details = Array.isArray(data.errors)
    ? data.errors
        .map((item) => {
          const { resource, field, code } = (item ?? {}) as Record<string, unknown>;
          return [resource, field, code].filter((part) => typeof part === 'string').join(' ');
        })
        .filter(Boolean)
    : [];
  const route = e.request?.url ? ` on ${e.request.method ?? ''} ${new URL(e.request.url).pathname}` : '';
  const hint = e.status === 401 || e.status === 403 || e.status === 404 ? ` (${accessHint})` : '';
  return `GitHub ${e.status}${route}: ${message}${details.length ? ` (${details.join('; ')})` : ''}${hint}`;
}
