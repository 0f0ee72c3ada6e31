/**
 * A loopback fake of the Anthropic Messages API (node:http only), for tests that drive the real
 * `@anthropic-ai/sdk` (`new Anthropic({ apiKey, baseURL: fake.url })`) and for worker processes
 * started by tests (`ANTHROPIC_BASE_URL=fake.url`).
 *
 * Wire format as documented for the API and as read in the SDK 1.x source:
 * - `POST /v1/messages` (JSON, or SSE when `stream: true`), `POST /v1/messages/count_tokens`,
 *   `GET /v1/models`; anything else is a 404 `not_found_error`.
 * - Auth: `x-api-key: K` or `authorization: Bearer K`; otherwise 401 `authentication_error`.
 * - Errors: `{"type":"error","error":{"type","message"[,"details"]},"request_id"}` plus a
 *   `request-id` header. No `x-should-retry` header unless a scripted reply sets one.
 * - Usage is computed from the request (≈ 4 characters a token) and prompt caching is simulated:
 *   a `system` prefix ending in a block with `cache_control` is written on first sight and read
 *   afterwards (per model, with its 5 m / 1 h TTL).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CacheCreation {
  ephemeral_5m_input_tokens: number;
  ephemeral_1h_input_tokens: number;
}

export interface Usage {
  /** Input tokens not read from or written to the cache. */
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: CacheCreation;
  service_tier: 'standard' | 'priority' | 'batch';
}

export type StopReason = 'end_turn' | 'max_tokens' | 'refusal';

export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface TextBlockParam {
  type: 'text';
  text: string;
  cache_control?: CacheControl | null;
}

export interface MessageParam {
  role: 'user' | 'assistant' | 'system';
  content: string | Array<{ type: string; [key: string]: unknown }>;
}

/** The body of `POST /v1/messages`, as the fake received it. */
export interface MessagesRequest {
  model: string;
  max_tokens: number;
  messages: MessageParam[];
  system?: string | TextBlockParam[];
  output_config?: { format?: { type: string; schema?: Record<string, unknown> } | null; effort?: string | null } | null;
  stream?: boolean;
  [key: string]: unknown;
}

/** `delayMs` (an extension): extra delay for this one answer, on top of `latencyMs`. */
export type ScriptedReply =
  | { kind: 'json'; value: unknown; usage?: Partial<Usage>; stopReason?: StopReason; delayMs?: number }
  | { kind: 'text'; text: string; usage?: Partial<Usage>; stopReason?: StopReason; delayMs?: number }
  | {
      kind: 'error';
      status: number;
      type: string;
      message: string;
      headers?: Record<string, string>;
      details?: Record<string, unknown>;
      delayMs?: number;
    };

export interface FakeAnthropicOptions {
  /** The accepted key (default `sk-ant-test`), as `x-api-key: K` or `authorization: Bearer K`. */
  apiKey?: string;
  /** Delay before every answer. */
  latencyMs?: number;
  /** Default reply generator, used when the queue is empty (default {@link defaultTriage}). */
  respond?: (request: MessagesRequest) => ScriptedReply | Promise<ScriptedReply>;
  /** Limits reported in the `anthropic-ratelimit-*` headers (an extension; generous defaults). */
  rateLimits?: Partial<RateLimits>;
  /** The address to listen on (default 127.0.0.1; a multi-host test gives a network namespace's link). */
  host?: string;
}

export interface RateLimits {
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** The query string as an object (an extension; `{}` when there is none). */
  query: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON body, the raw text when it is not JSON, or `undefined` when empty. */
  body: any;
  at: number;
}

export interface FakeAnthropic {
  url: string;
  requests: RecordedRequest[];
  messageCalls(): RecordedRequest[];
  enqueue(...replies: ScriptedReply[]): void;
  close(): Promise<void>;
}

/** What the API answers once the account's spend limit is reached (a 429 no wait fixes). */
export const SPEND_LIMIT_REPLY: ScriptedReply = {
  kind: 'error',
  status: 429,
  type: 'rate_limit_error',
  message: 'You have reached your specified API usage limits.',
  details: { error_code: 'enforced_spend_limit_reached' },
};

/** The triage object {@link defaultTriage} answers with. */
export const DEFAULT_TRIAGE = {
  priority: 'medium',
  difficulty: 'moderate',
  component: 'core',
  labels: ['bug'],
  comment:
    '### Triage\n\n' +
    'Thanks for the report. This looks like a **bug** in `core`.\n\n' +
    '- Priority: medium\n' +
    '- Difficulty: moderate\n\n' +
    'A maintainer will take a look.',
  confidence: 0.8,
  related: [] as number[],
  duplicate_of: null,
} as const;

/**
 * The default reply generator: a valid triage object as JSON. Usage is computed by the fake from
 * the request for every successful reply (see {@link estimateTokens}); the generator adds none.
 */
export function defaultTriage(_request: MessagesRequest): ScriptedReply {
  return { kind: 'json', value: structuredClone(DEFAULT_TRIAGE) };
}

/** The fake's token rule: ceil(characters / 4). */
export function estimateTokens(characters: number): number {
  return Math.ceil(characters / 4);
}

function blockText(block: unknown): string {
  if (typeof block === 'string') return block;
  if (!block || typeof block !== 'object') return '';
  const b = block as Record<string, unknown>;
  switch (b.type) {
    case 'text':
      return typeof b.text === 'string' ? b.text : '';
    case 'thinking':
      return typeof b.thinking === 'string' ? b.thinking : '';
    case 'tool_use':
      return JSON.stringify(b.input ?? {});
    case 'tool_result':
      return Array.isArray(b.content) ? b.content.map(blockText).join('') : blockText(b.content);
    default:
      return '';
  }
}

function contentText(content: unknown): string {
  return Array.isArray(content) ? content.map(blockText).join('') : blockText(content);
}

/** Characters of `system` plus the text of every message, as the fake counts them. */
export function requestCharacters(request: Pick<MessagesRequest, 'system' | 'messages'>): number {
  let total = contentText(request.system).length;
  for (const message of request.messages ?? []) total += contentText(message?.content).length;
  return total;
}

/** `count_tokens` and the uncached `input_tokens` rule: ceil(characters of system + messages / 4). */
export function countRequestTokens(request: Pick<MessagesRequest, 'system' | 'messages'>): number {
  return estimateTokens(requestCharacters(request));
}

interface CacheSegment {
  key: string;
  characters: number;
  ttl: '5m' | '1h';
}

/** The cacheable prefix of `system`: one segment per block that carries `cache_control`. */
function cacheSegments(system: MessagesRequest['system']): CacheSegment[] {
  if (!Array.isArray(system)) return [];
  const segments: CacheSegment[] = [];
  let prefix = '';
  let pending = 0;
  for (const block of system) {
    const text = blockText(block);
    prefix += text + '\u0000';
    pending += text.length;
    const control = (block as TextBlockParam | undefined)?.cache_control;
    if (control && control.type === 'ephemeral') {
      segments.push({ key: prefix, characters: pending, ttl: control.ttl === '1h' ? '1h' : '5m' });
      pending = 0;
    }
  }
  return segments;
}

const TTL_MS = { '5m': 5 * 60_000, '1h': 60 * 60_000 } as const;

const MODELS = [
  { id: 'claude-opus-5-5', display_name: 'Claude Opus 5.5', line: 'opus', created_at: '2026-09-16T00:00:00Z' },
  { id: 'claude-sonnet-5-5', display_name: 'Claude Sonnet 5.5', line: 'sonnet', created_at: '2026-09-16T00:00:00Z' },
  { id: 'claude-haiku-5-5', display_name: 'Claude Haiku 5.5', line: 'haiku', created_at: '2026-10-01T00:00:00Z' },
  { id: 'claude-haiku-4-5', display_name: 'Claude Haiku 4.5', line: 'haiku', created_at: '2025-10-01T00:00:00Z' },
].map((m) => ({
  type: 'model',
  ...m,
  lifecycle: 'active',
  deprecated_at: null,
  retires_at: null,
  max_input_tokens: 200_000,
  max_tokens: 64_000,
  capabilities: null,
}));

/** First API version that rejects sampling parameters (DESIGN.md §3). */
const NO_SAMPLING_VERSION = '2026-10-21';

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function newId(prefix: string): string {
  return prefix + randomBytes(12).toString('base64url');
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

function validateMessages(body: unknown, version: string, forCount: boolean): MessagesRequest {
  if (!isObject(body)) throw new RequestError(400, 'invalid_request_error', 'body: expected a JSON object');
  if (typeof body.model !== 'string' || body.model === '')
    throw new RequestError(400, 'invalid_request_error', 'model: Field required');
  if (!forCount) {
    if (body.max_tokens === undefined)
      throw new RequestError(400, 'invalid_request_error', 'max_tokens: Field required');
    if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1)
      throw new RequestError(400, 'invalid_request_error', 'max_tokens: Input should be a positive integer');
  }
  if (!Array.isArray(body.messages)) throw new RequestError(400, 'invalid_request_error', 'messages: Field required');
  if (body.messages.length === 0)
    throw new RequestError(400, 'invalid_request_error', 'messages: at least one message is required');
  body.messages.forEach((m, i) => {
    if (!isObject(m) || typeof m.role !== 'string' || (typeof m.content !== 'string' && !Array.isArray(m.content)))
      throw new RequestError(400, 'invalid_request_error', `messages.${i}: expected {role, content}`);
  });
  if (!forCount && version >= NO_SAMPLING_VERSION) {
    for (const name of ['temperature', 'top_p', 'top_k']) {
      if (body[name] !== undefined && body[name] !== null)
        throw new RequestError(
          400,
          'invalid_request_error',
          `${name}: Extra inputs are not permitted with anthropic-version ${version}`,
        );
    }
  }
  const toolChoice = body.tool_choice;
  if (isObject(toolChoice) && (toolChoice.type === 'tool' || toolChoice.type === 'any'))
    throw new RequestError(
      400,
      'invalid_request_error',
      `tool_choice: forcing tool use ("${toolChoice.type}") is not supported with this model; use output_config.format`,
    );
  const format = isObject(body.output_config) ? body.output_config.format : undefined;
  if (isObject(format)) {
    if (format.type !== 'json_schema')
      throw new RequestError(400, 'invalid_request_error', `output_config.format.type: unknown type ${format.type}`);
    if (!isObject(format.schema))
      throw new RequestError(400, 'invalid_request_error', 'output_config.format.schema: Field required');
  }
  return body as unknown as MessagesRequest;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
  details?: Record<string, unknown>,
): void {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const requestId = lower['request-id'] ?? newId('req_');
  const body = { type: 'error', error: { type, message, ...(details ? { details } : {}) }, request_id: requestId };
  send(res, status, body, { ...lower, 'request-id': requestId });
}

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const apiKey = options.apiKey ?? 'sk-ant-test';
  const latencyMs = options.latencyMs ?? 0;
  const respond = options.respond ?? defaultTriage;
  const limits: RateLimits = { requests: 4_000, inputTokens: 2_000_000, outputTokens: 400_000, ...options.rateLimits };

  const requests: RecordedRequest[] = [];
  const queue: ScriptedReply[] = [];
  const cache = new Map<string, number>(); // model + prefix → expiry (ms)
  const used = { requests: 0, inputTokens: 0, outputTokens: 0 };
  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let closed = false;

  const delay = (ms: number): Promise<void> => {
    if (ms <= 0 || closed) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      timers.add(entry);
    });
  };

  const rateLimitHeaders = (): Record<string, string> => {
    const now = Date.now();
    const out: Record<string, string> = {};
    const put = (name: string, limit: number, usedSoFar: number) => {
      out[`anthropic-ratelimit-${name}-limit`] = String(limit);
      out[`anthropic-ratelimit-${name}-remaining`] = String(Math.max(0, limit - usedSoFar));
      out[`anthropic-ratelimit-${name}-reset`] = rfc3339(now + 60_000);
    };
    put('requests', limits.requests, used.requests);
    put('tokens', limits.inputTokens + limits.outputTokens, used.inputTokens + used.outputTokens);
    put('input-tokens', limits.inputTokens, used.inputTokens);
    put('output-tokens', limits.outputTokens, used.outputTokens);
    return out;
  };

  /** Usage of a successful reply; updates the simulated prompt cache. */
  const computeUsage = (request: MessagesRequest, text: string): Usage => {
    const now = Date.now();
    const segments = cacheSegments(request.system);
    let cachedCharacters = 0;
    let write5m = 0;
    let write1h = 0;
    let read = 0;
    for (const segment of segments) {
      cachedCharacters += segment.characters;
      const tokens = estimateTokens(segment.characters);
      const key = `${request.model}\u0000${segment.key}`;
      const expiry = cache.get(key);
      if (expiry !== undefined && expiry > now) read += tokens;
      else if (segment.ttl === '1h') write1h += tokens;
      else write5m += tokens;
      cache.set(key, now + TTL_MS[segment.ttl]); // a read refreshes the entry
    }
    return {
      input_tokens: estimateTokens(requestCharacters(request) - cachedCharacters),
      output_tokens: Math.max(1, estimateTokens(text.length)),
      cache_creation_input_tokens: write5m + write1h,
      cache_read_input_tokens: read,
      cache_creation: { ephemeral_5m_input_tokens: write5m, ephemeral_1h_input_tokens: write1h },
      service_tier: 'standard',
    };
  };

  const handleMessages = async (res: ServerResponse, request: MessagesRequest): Promise<void> => {
    let reply: ScriptedReply;
    try {
      reply = queue.shift() ?? (await respond(request));
    } catch (error) {
      await delay(latencyMs);
      sendError(res, 500, 'api_error', `fake respond() threw: ${String(error)}`);
      return;
    }
    used.requests += 1;
    if (reply.kind === 'error') {
      const headers = { ...rateLimitHeaders(), ...(reply.headers ?? {}) };
      await delay(latencyMs + (reply.delayMs ?? 0));
      sendError(res, reply.status, reply.type, reply.message, headers, reply.details);
      return;
    }
    let text = reply.kind === 'json' ? JSON.stringify(reply.value) : reply.text;
    let stopReason = reply.stopReason;
    if (!stopReason) {
      // A reply longer than max_tokens is cut, as the model would be.
      if (estimateTokens(text.length) > request.max_tokens) {
        text = text.slice(0, request.max_tokens * 4);
        stopReason = 'max_tokens';
      } else {
        stopReason = 'end_turn';
      }
    }
    const usage: Usage = { ...computeUsage(request, text), ...(reply.usage ?? {}) };
    used.inputTokens += usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens;
    used.outputTokens += usage.output_tokens;
    const requestId = newId('req_');
    const message = {
      id: newId('msg_'),
      type: 'message',
      role: 'assistant',
      model: request.model,
      content: text === '' ? [] : [{ type: 'text', text }],
      stop_reason: stopReason,
      stop_sequence: null,
      stop_details: stopReason === 'refusal' ? { type: 'refusal', category: null, explanation: null } : null,
      usage,
    };
    const headers = { 'request-id': requestId, ...rateLimitHeaders() };
    await delay(latencyMs + (reply.delayMs ?? 0));
    if (res.destroyed) return;
    if (!request.stream) {
      send(res, 200, message, headers);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
    const event = (type: string, data: Record<string, unknown>) =>
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    event('message_start', {
      message: {
        ...message,
        content: [],
        stop_reason: null,
        stop_details: null,
        usage: { ...usage, output_tokens: 1 },
      },
    });
    if (text !== '') {
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      event('ping', {});
      for (let i = 0; i < text.length; i += 64) {
        event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: text.slice(i, i + 64) } });
      }
      event('content_block_stop', { index: 0 });
    }
    event('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: null, stop_details: message.stop_details },
      usage: {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cache_creation_input_tokens: usage.cache_creation_input_tokens,
        cache_read_input_tokens: usage.cache_read_input_tokens,
      },
    });
    event('message_stop', {});
    res.end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(req);
    let body: any = undefined;
    let bodyIsJson = false;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
        bodyIsJson = true;
      } catch {
        body = raw;
      }
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const method = req.method ?? 'GET';
    requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
      at: Date.now(),
    });

    const reject = async (status: number, type: string, message: string) => {
      await delay(latencyMs);
      sendError(res, status, type, message);
    };

    if (headers['x-api-key'] !== apiKey && headers['authorization'] !== `Bearer ${apiKey}`) {
      return reject(401, 'authentication_error', 'invalid x-api-key');
    }
    const route = `${method} ${url.pathname.replace(/\/+$/, '')}`;
    if (route !== 'POST /v1/messages' && route !== 'POST /v1/messages/count_tokens' && route !== 'GET /v1/models') {
      return reject(404, 'not_found_error', `Not found: ${method} ${url.pathname}`);
    }
    const version = headers['anthropic-version'];
    if (!version) return reject(400, 'invalid_request_error', 'anthropic-version: header is required');

    if (route === 'GET /v1/models') {
      const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 20) || 20, 1), 1000);
      const after = url.searchParams.get('after_id');
      const start = after ? MODELS.findIndex((m) => m.id === after) + 1 : 0;
      const data = MODELS.slice(start, start + limit);
      await delay(latencyMs);
      send(
        res,
        200,
        {
          data,
          has_more: start + limit < MODELS.length,
          first_id: data[0]?.id ?? null,
          last_id: data.at(-1)?.id ?? null,
        },
        { 'request-id': newId('req_') },
      );
      return;
    }

    if (!bodyIsJson) return reject(400, 'invalid_request_error', 'body: could not parse the request body as JSON');
    let request: MessagesRequest;
    try {
      request = validateMessages(body, version, route === 'POST /v1/messages/count_tokens');
    } catch (error) {
      if (error instanceof RequestError) return reject(error.status, error.type, error.message);
      throw error;
    }
    if (route === 'POST /v1/messages/count_tokens') {
      await delay(latencyMs);
      send(res, 200, { input_tokens: countRequestTokens(request) }, { 'request-id': newId('req_') });
      return;
    }
    await handleMessages(res, request);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'api_error', `fake server error: ${String(error)}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    requests,
    messageCalls: () => requests.filter((r) => r.method === 'POST' && r.path.replace(/\/+$/, '') === '/v1/messages'),
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      for (const entry of timers) {
        clearTimeout(entry.timer);
        entry.resolve();
      }
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
