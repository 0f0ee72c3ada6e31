import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { Octokit } from '@octokit/rest';
import { createHash } from 'node:crypto';
import type { LoadedConfig } from '../config/load.js';
import { refreshOn401, type InstallationTokenCache } from './installation-token-cache.js';
import { GitHubGate } from '../limits/github-gate.js';
import { RateLimitWait } from '../limits/wait.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';

/**
 * Installs the rate-limit gate given as the `gate` option. As a plugin applied before plugin-retry, its
 * hook sits inside the retry one, so every request plugin-retry re-sends goes through the gate too.
 */
function rateLimitGate(octokit: Pick<Octokit, 'hook'>, options: object): void {
  const gate = (options as { gate?: GitHubGate }).gate;
  if (gate) octokit.hook.wrap('request', gate.wrap);
}

const HlsOctokit = Octokit.plugin(rateLimitGate, refreshOn401, retry);
export type GitHub = InstanceType<typeof HlsOctokit>;

/** How hls authenticates: a token, or a GitHub App (its JWT, or an installation's tokens). */
export type GitHubCredentials =
  | { kind: 'token'; token: string }
  | { kind: 'app'; appId: number; privateKey: string; installationId?: number; tokens?: InstallationTokenCache };

export function githubToken(config: LoadedConfig, env: NodeJS.ProcessEnv): string | undefined {
  return config.github.token ?? (env.GITHUB_TOKEN || undefined);
}

/** How a token is named in the database: its sha256, never the token. */
export function tokenSha256(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** `github.api_url` > GITHUB_API_URL > api.github.com, without a trailing slash. */
export function githubApiUrl(config: LoadedConfig, env: NodeJS.ProcessEnv): string {
  return (config.github.api_url ?? (env.GITHUB_API_URL || 'https://api.github.com')).replace(/\/$/, '');
}

/**
 * The key rate-limit readings, pauses and write pacing are kept under: a token's sha256; for a GitHub
 * App `app:<id>/installation:<id>` (its tokens rotate, its allowance does not) or `app:<id>` (the JWT).
 */
export function rateLimitKey(credentials: GitHubCredentials): string {
  if (credentials.kind === 'token') return tokenSha256(credentials.token);
  const app = `app:${credentials.appId}`;
  return credentials.installationId === undefined ? app : `${app}/installation:${credentials.installationId}`;
}

/**
 * Octokit for `githubApiUrl` (without credentials: unauthenticated, for public endpoints). With the
 * database and credentials, every request goes through the rate-limit gate shared by all hls processes
 * (pacing, pauses, recorded headers);
 * plugin-retry re-sends server errors and requests that got no answer. Rate-limit answers (403/429) are
 * the gate's, not the plugin's. Each request (each retry too) gives up after `github.timeout_seconds`.
 */
export function createGitHub(
  config: LoadedConfig,
  credentials: GitHubCredentials | undefined,
  log: Logger,
  env: NodeJS.ProcessEnv,
  store?: Store,
): GitHub {
  return new HlsOctokit({
    ...(credentials ? authOptions(credentials, log) : {}),
    baseUrl: githubApiUrl(config, env),
    userAgent: 'hls',
    log: { debug: () => {}, info: () => {}, warn: (message: string) => log.warn(message), error: () => {} },
    retry: { retries: 2, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
    request: { fetch: fetchWithTimeout(config.github.timeout_seconds * 1000) },
    gate:
      store && credentials ? new GitHubGate(store, rateLimitKey(credentials), config.github.pacing, log) : undefined,
  });
}

/**
 * A token as is; an App through @octokit/auth-app, which signs the JWT and mints installation tokens,
 * kept in `tokens` until shortly before they expire (its own cache keeps them 59 minutes regardless).
 */
function authOptions(credentials: GitHubCredentials, log: Logger): object {
  if (credentials.kind === 'token') return { auth: credentials.token };
  const { appId, privateKey, installationId, tokens } = credentials;
  return {
    authStrategy: createAppAuth,
    auth: {
      appId,
      privateKey,
      ...(installationId === undefined ? {} : { installationId }),
      ...(tokens ? { cache: tokens } : {}),
      log: { warn: (message: string) => log.warn(message) },
    },
    tokens,
  };
}

/**
 * fetch that gives up when the answer (its body included) has not come within `ms`, or when the caller's
 * own signal aborts. The timeout surfaces as an error named TimeoutError, which the worker retries.
 */
function fetchWithTimeout(ms: number): typeof fetch {
  return async (input, init = {}) => {
    const timeout = AbortSignal.timeout(ms);
    try {
      return await fetch(input, { ...init, signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
    } catch (error) {
      if (!timeout.aborted || init.signal?.aborted) throw error;
      const timedOut = new Error(`no answer within ${ms / 1000} s (github.timeout_seconds)`, { cause: error });
      timedOut.name = 'TimeoutError';
      throw timedOut;
    }
  };
}

/** Whether an error came from a GitHub request: an error answer, no answer, or a rate-limit wait. */
export function isGitHubFailure(error: unknown): boolean {
  return error instanceof RateLimitWait || (error instanceof Error && 'request' in error && 'status' in error);
}

/**
 * One line for a failed GitHub call: status, route, GitHub's message and validation details, and on
 * 401/403/404 `accessHint` (never the token: Octokit redacts it from the request it keeps).
 */
export function describeGitHubError(error: unknown, accessHint: string): string {
  if (error instanceof RateLimitWait) {
    return `${error.message}: not sent; try again after ${new Date(error.deferUntil).toISOString()}`;
  }
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
