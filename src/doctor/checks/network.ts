/** How long one network check may take (no retries: doctor reports what it sees). */
export const NETWORK_TIMEOUT_MS = 15_000;

/** The innermost message of an error chain: "connect ECONNREFUSED …" rather than "fetch failed". */
export function rootCause(error: unknown): string {
  let current = error as { message?: string; cause?: unknown };
  while (current.cause instanceof Error) current = current.cause;
  return current.message || String(error);
}

/** An API base without credentials, query or fragment (a URL may carry a user:password). */
export function publicUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/$/, '')}`;
  } catch {
    return '(invalid URL)';
  }
}
