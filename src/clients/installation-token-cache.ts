import type { Octokit } from '@octokit/rest';

/** Installation tokens are replaced when less than this is left of their life… */
const REFRESH_BEFORE_MS = 5 * 60_000;
/** …or, for short-lived ones, less than this fraction of it. */
const REFRESH_FRACTION = 0.5;

/**
 * The token cache handed to @octokit/auth-app (in memory, never stored): an entry is served until
 * shortly before its `expires_at`, so a token is refreshed before GitHub refuses it. auth-app keeps its
 * entries as `token|createdAt|expiresAt|…` strings.
 */
export class InstallationTokenCache {
  private readonly entries = new Map<string, string>();

  get(key: string): string | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    const [, createdAt, expiresAt] = value.split('|');
    const created = Date.parse(createdAt ?? '');
    const expires = Date.parse(expiresAt ?? '');
    const margin = Math.min(REFRESH_BEFORE_MS, (expires - created) * REFRESH_FRACTION);
    if (!(Date.now() < expires - margin)) {
      this.entries.delete(key);
      return undefined;
    }
    return value;
  }

  set(key: string, value: string): void {
    this.entries.set(key, value);
  }

  /** GitHub refused a token before its time (revoked, clock skew): the next request mints another. */
  forget(): void {
    this.entries.clear();
  }
}

/**
 * Octokit plugin for installation clients (the `tokens` option): a request answered 401 is sent once
 * more with a fresh token, so a token that expired in flight does not fail the event in hand.
 */
export function refreshOn401(octokit: Pick<Octokit, 'hook'>, options: object): void {
  const tokens = (options as { tokens?: InstallationTokenCache }).tokens;
  if (!tokens) return;
  octokit.hook.wrap('request', async (send, request) => {
    try {
      return await send(request);
    } catch (error) {
      if ((error as { status?: number }).status !== 401) throw error;
      tokens.forget();
      return send(request);
    }
  });
}
