/** How a failed attempt is treated: retried later (transient) or failed at once (permanent). */
export interface ErrorVerdict {
  kind: 'transient' | 'permanent';
  /** Stored in error_class, e.g. "transient:http_503", "permanent:invalid_data". */
  errorClass: string;
  message: string;
  /** The server asked us to wait at least this long (Retry-After). */
  retryAfterMs?: number;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const TRANSIENT_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504, 529]);

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  status?: number;
  retryable?: boolean;
  /** With `retryable`: the handler's name for the failure (default "handler"), e.g. "invalid_payload". */
  detail?: string;
  /** Anthropic SDK: e.g. "enforced_spend_limit_reached". */
  errorCode?: string;
  headers?: Record<string, string | undefined> | Headers;
  response?: { headers?: Record<string, string | undefined> };
  cause?: unknown;
}

/**
 * Classifies errors from Octokit (RequestError: status, response.headers), the Anthropic SDK
 * (APIError: status, headers; APIConnectionError), fetch/undici, better-sqlite3 and handlers.
 * A handler can decide itself by setting `retryable` on the error it throws.
 */
export function classifyError(thrown: unknown): ErrorVerdict {
  const error = (thrown ?? {}) as ErrorLike;
  const message = oneLine((error as { apiMessage?: string }).apiMessage ?? error.message ?? String(thrown));
  const verdict = (kind: ErrorVerdict['kind'], detail: string): ErrorVerdict => ({
    kind,
    errorClass: `${kind}:${detail}`,
    message,
    ...retryAfter(error),
  });

  if (typeof error.retryable === 'boolean') {
    return verdict(error.retryable ? 'transient' : 'permanent', error.detail ?? 'handler');
  }
  if (error.errorCode === 'enforced_spend_limit_reached') return verdict('permanent', 'spend_limit');
  // Before the status: Octokit reports a request that got no answer as status 500, with the cause inside.
  const trouble = connectionTrouble(error);
  if (trouble) return verdict('transient', trouble);
  if (typeof error.status === 'number') {
    const status = error.status;
    if (TRANSIENT_STATUS.has(status) || status >= 500) return verdict('transient', `http_${status}`);
    if (status === 403 && isRateLimited(error)) return verdict('transient', 'http_403_rate_limit');
    return verdict('permanent', `http_${status}`);
  }
  if (error.name === 'APIConnectionError') return verdict('transient', 'network');
  if (thrown instanceof SyntaxError || thrown instanceof TypeError || thrown instanceof RangeError) {
    return verdict('permanent', 'invalid_data');
  }
  return verdict('transient', 'error');
}

/**
 * Looks through the error and its causes (fetch and Octokit wrap socket errors and timeouts) for a lock
 * code, a timeout or a connection code.
 */
function connectionTrouble(error: ErrorLike): 'network' | 'timeout' | 'sqlite_busy' | undefined {
  for (let current: ErrorLike | undefined = error, depth = 0; current && depth < 5; depth++) {
    if (current.code && /^SQLITE_(BUSY|LOCKED)/.test(current.code)) return 'sqlite_busy';
    if (current.name === 'AbortError' || /timed? ?out/i.test(current.name ?? '')) return 'timeout';
    if (current.code && NETWORK_CODES.has(current.code)) return 'network';
    current = current.cause as ErrorLike | undefined;
  }
  return undefined;
}

function header(error: ErrorLike, name: string): string | undefined {
  const headers = error.headers ?? error.response?.headers;
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  return (headers as Record<string, string | undefined>)[name];
}

function isRateLimited(error: ErrorLike): boolean {
  return (
    header(error, 'retry-after') !== undefined ||
    header(error, 'x-ratelimit-remaining') === '0' ||
    /rate limit/i.test(error.message ?? '')
  );
}

function retryAfter(error: ErrorLike): { retryAfterMs?: number } {
  const milliseconds = Number(header(error, 'retry-after-ms'));
  if (Number.isFinite(milliseconds) && milliseconds > 0) return { retryAfterMs: milliseconds };
  const value = header(error, 'retry-after');
  if (value === undefined) return primaryLimitReset(error);
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return { retryAfterMs: Math.max(0, seconds * 1000) };
  const date = Date.parse(value);
  return Number.isNaN(date) ? {} : { retryAfterMs: Math.max(0, date - Date.now()) };
}

/** GitHub's primary rate limit: no Retry-After, but the time the quota comes back. */
function primaryLimitReset(error: ErrorLike): { retryAfterMs?: number } {
  const reset = Number(header(error, 'x-ratelimit-reset'));
  if (header(error, 'x-ratelimit-remaining') !== '0' || !Number.isFinite(reset)) return {};
  return { retryAfterMs: Math.max(0, reset * 1000 - Date.now()) };
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 1000 ? `${line.slice(0, 1000)}…` : line;
}

/**
 * An error that asks for the event to come back at a later time without counting the attempt, such as
 * a shared rate-limit wait longer than is worth holding the event for.
 */
export function requestedDeferral(thrown: unknown): { until: number; reason: string } | undefined {
  const until = (thrown as { deferUntil?: unknown } | null)?.deferUntil;
  return typeof until === 'number' ? { until, reason: (thrown as Error).message } : undefined;
}
