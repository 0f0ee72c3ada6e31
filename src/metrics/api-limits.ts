/** How reports name the rate-limit readings and pauses the API clients record, without showing a key. */

export const PAUSE_KINDS = ['github', 'anthropic', 'anthropic_spend'] as const;

/** `github:<sha>` → github, `anthropic:<sha>` → anthropic, `anthropic-spend:<sha>` → anthropic_spend. */
export function pauseKind(scope: string): string {
  return scope.slice(0, scope.indexOf(':')).replaceAll('-', '_');
}

/** The sha256 in a pause scope (`kind:<sha>`). */
export function scopeKeySha256(scope: string): string {
  return scope.slice(scope.indexOf(':') + 1);
}

/**
 * Tells keys apart in reports: the first 12 hex digits of a token's sha256 (never the token), or a
 * GitHub App's `app:<id>/installation:<id>` as is (no secret).
 */
export function keyId(keySha256: string): string {
  return keySha256.startsWith('app:') ? keySha256 : keySha256.slice(0, 12);
}

/** APIs for which readings of more than one key exist: only there do reports need the key id. */
export function apisWithSeveralKeys(readings: { api: string; key: string }[]): Set<string> {
  const keys = new Map<string, Set<string>>();
  for (const r of readings) keys.set(r.api, (keys.get(r.api) ?? new Set()).add(r.key));
  return new Set([...keys].filter(([, set]) => set.size > 1).map(([api]) => api));
}
