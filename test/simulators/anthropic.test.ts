/**
 * Proves the Anthropic fake against the REAL `@anthropic-ai/sdk` and records what this SDK version
 * does (headers it sends, retries, error classes, parse() failures) for the pipeline author.
 */
import Anthropic, {
  AnthropicError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  OverloadedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import { jsonSchemaOutputFormat } from '@anthropic-ai/sdk/helpers/json-schema';
import { VERSION as SDK_VERSION } from '@anthropic-ai/sdk/version';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  countRequestTokens,
  DEFAULT_TRIAGE,
  estimateTokens,
  startFakeAnthropic,
  type FakeAnthropic,
  type MessagesRequest,
} from '../../src/simulators/anthropic.js';

const KEY = 'sk-ant-test';
const MODEL = 'claude-sonnet-5-5';

const triageSchema = {
  type: 'object',
  properties: {
    priority: { type: 'string', enum: ['low', 'medium', 'high', 'critical'] },
    difficulty: { type: 'string', enum: ['trivial', 'easy', 'moderate', 'hard'] },
    component: { type: 'string' },
    labels: { type: 'array', items: { type: 'string' } },
    comment: { type: 'string' },
    confidence: { type: 'number' },
  },
  required: ['priority', 'difficulty', 'component', 'labels', 'comment', 'confidence'],
  additionalProperties: false,
} as const;

const SYSTEM_PROMPT = 'You triage GitHub issues for the hls project. '.repeat(40);
const USER_TEXT = 'Issue #12: the worker crashes on an empty payload.';

let fake: FakeAnthropic;

function client(maxRetries: number, extra: ConstructorParameters<typeof Anthropic>[0] = {}): Anthropic {
  return new Anthropic({ apiKey: KEY, baseURL: fake.url, maxRetries, timeout: 5_000, ...extra });
}

function request(extra: Record<string, unknown> = {}) {
  return {
    model: MODEL,
    max_tokens: 1024,
    system: [{ type: 'text' as const, text: SYSTEM_PROMPT }],
    messages: [{ role: 'user' as const, content: USER_TEXT }],
    ...extra,
  };
}

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

beforeEach(async () => {
  fake = await startFakeAnthropic();
});

afterEach(async () => {
  await fake.close();
});

describe('fake Anthropic + real SDK', () => {
  it('answers a normal call with parsed usage and sends Bearer auth + anthropic-version 2026-10-21', async () => {
    const anthropic = client(0);
    const message = await anthropic.messages.create(request());

    expect(message.type).toBe('message');
    expect(message.role).toBe('assistant');
    expect(message.model).toBe(MODEL);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.id).toMatch(/^msg_/);
    expect(message._request_id).toMatch(/^req_/);
    const block = message.content.find((b) => b.type === 'text');
    expect(block?.type === 'text' && JSON.parse(block.text)).toEqual(DEFAULT_TRIAGE);

    const text = JSON.stringify(DEFAULT_TRIAGE);
    expect(message.usage).toEqual({
      input_tokens: estimateTokens(SYSTEM_PROMPT.length + USER_TEXT.length),
      output_tokens: estimateTokens(text.length),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      service_tier: 'standard',
    });

    const [call] = fake.messageCalls();
    expect(call.headers['authorization']).toBe(`Bearer ${KEY}`);
    expect(call.headers['x-api-key']).toBeUndefined();
    expect(call.headers['anthropic-version']).toBe('2026-10-21');
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.headers['user-agent']).toBe(`Anthropic/JS ${SDK_VERSION}`);
    expect(call.headers['x-stainless-retry-count']).toBe('0');
    expect(call.body).toEqual(request());
  });

  it('exposes response headers through .withResponse(): request-id and decreasing rate-limit counters', async () => {
    const anthropic = client(0);
    const first = await anthropic.messages.create(request()).withResponse();
    const second = await anthropic.messages.create(request()).withResponse();

    expect(first.response.headers).toBeInstanceOf(Headers);
    expect(first.request_id).toMatch(/^req_/);
    expect(first.request_id).toBe(first.response.headers.get('request-id'));
    expect((first.data as { _request_id?: string })._request_id).toBe(first.request_id);
    for (const kind of ['requests', 'tokens', 'input-tokens', 'output-tokens']) {
      const h = (name: string, r = first.response) => r.headers.get(`anthropic-ratelimit-${kind}-${name}`);
      expect(Number(h('limit'))).toBeGreaterThan(0);
      expect(Number(h('remaining', second.response))).toBeLessThan(Number(h('remaining')));
      expect(h('reset')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    expect(Number(first.response.headers.get('anthropic-ratelimit-requests-remaining'))).toBe(
      Number(first.response.headers.get('anthropic-ratelimit-requests-limit')) - 1,
    );
  });

  it('messages.parse() with jsonSchemaOutputFormat yields parsed_output; parse() has no .withResponse()', async () => {
    const anthropic = client(0);
    const promise = anthropic.messages.parse({
      ...request(),
      output_config: { format: jsonSchemaOutputFormat(triageSchema) },
    });
    // parse() chains .then() on the APIPromise: the result is a plain Promise.
    expect((promise as any).withResponse).toBeUndefined();
    const message = await promise;

    expect(message.parsed_output).toEqual(DEFAULT_TRIAGE);
    expect(message.parsed_output?.priority).toBe('medium');
    const sent = fake.messageCalls()[0].body as MessagesRequest;
    expect(sent.output_config?.format?.type).toBe('json_schema');
    expect(sent.output_config?.format?.schema).toMatchObject({ type: 'object', required: triageSchema.required });
    expect(sent.output_config?.format).not.toHaveProperty('parse');
  });

  it('accepts both auth styles: Bearer (this SDK) and x-api-key (older SDKs)', async () => {
    // Older-SDK style through the SDK itself: drop Authorization, send x-api-key.
    const legacy = client(0, { defaultHeaders: { authorization: null, 'x-api-key': KEY } });
    const viaLegacy = await legacy.messages.create(request());
    expect(viaLegacy.stop_reason).toBe('end_turn');
    expect(fake.requests[0].headers['x-api-key']).toBe(KEY);
    expect(fake.requests[0].headers['authorization']).toBeUndefined();

    const raw = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ ...request(), temperature: 0 }), // allowed by the older version
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('application/json');
    const body = await raw.json();
    expect(body).toMatchObject({ type: 'message', role: 'assistant', model: MODEL, stop_sequence: null });
    expect(body.usage.service_tier).toBe('standard');

    const bearer = await fetch(`${fake.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEY}`,
        'anthropic-version': '2026-10-21',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'abcd' }] }),
    });
    expect(await bearer.json()).toEqual({ input_tokens: 1 });
  });

  it('rejects a wrong key with AuthenticationError (not retried) carrying status, Headers and the body', async () => {
    const anthropic = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: fake.url, maxRetries: 2, timeout: 5_000 });
    const error = await rejection(anthropic.messages.create(request()));

    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toBeInstanceOf(APIError);
    expect(error.name).toBe('AuthenticationError');
    expect(error.status).toBe(401);
    expect(error.headers).toBeInstanceOf(Headers);
    expect(error.requestID).toMatch(/^req_/);
    expect(error.requestID).toBe(error.headers.get('request-id'));
    expect(error.error).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: 'invalid x-api-key' },
      request_id: error.requestID,
    });
    expect(error.type).toBe('authentication_error');
    expect(error.apiMessage).toBe('invalid x-api-key');
    expect(error.errorCode).toBeNull();
    expect(error.details).toBeNull();
    // `message` is the status + the whole JSON body; the API's own text is `apiMessage`.
    expect(error.message).toBe(`401 ${JSON.stringify(error.error)}`);
    expect(fake.requests).toHaveLength(1); // recorded although rejected; 4xx is not retried
  });

  it('retries a 429 rate_limit_error with retry-after: 0, then succeeds (2 requests)', async () => {
    fake.enqueue({
      kind: 'error',
      status: 429,
      type: 'rate_limit_error',
      message: 'Number of request tokens has exceeded your per-minute rate limit',
      headers: { 'retry-after': '0' },
    });
    const message = await client(2).messages.create(request());

    expect(message.stop_reason).toBe('end_turn');
    const calls = fake.messageCalls();
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.headers['x-stainless-retry-count'])).toEqual(['0', '1']);
  });

  it('surfaces a 429 as RateLimitError when retries are off, with retry-after readable from Headers', async () => {
    fake.enqueue({
      kind: 'error',
      status: 429,
      type: 'rate_limit_error',
      message: 'slow down',
      headers: { 'retry-after': '7' },
    });
    const error = await rejection(client(0).messages.create(request()));

    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.status).toBe(429);
    expect(error.headers.get('retry-after')).toBe('7');
    expect(error.headers.get('x-should-retry')).toBeNull();
    expect(error.headers.get('anthropic-ratelimit-requests-limit')).not.toBeNull();
    expect(error.type).toBe('rate_limit_error');
  });

  it('retries a 529 overloaded_error, then succeeds; without retries it is an OverloadedError', async () => {
    const overloaded = {
      kind: 'error',
      status: 529,
      type: 'overloaded_error',
      message: 'Overloaded',
      headers: { 'retry-after': '0' },
    } as const;
    fake.enqueue(overloaded);
    const message = await client(2).messages.create(request());
    expect(message.stop_reason).toBe('end_turn');
    expect(fake.messageCalls()).toHaveLength(2);

    fake.enqueue(overloaded);
    const error = await rejection(client(0).messages.create(request()));
    expect(error).toBeInstanceOf(OverloadedError);
    expect(error.status).toBe(529);
    expect(error.type).toBe('overloaded_error');
  });

  it('RETRIES a spend-limit 429 by default (no x-should-retry): maxRetries+1 requests, then EnforcedSpendLimitReachedError', async () => {
    const spendLimit = {
      kind: 'error',
      status: 429,
      type: 'rate_limit_error',
      message: 'You have reached your specified API usage limits.',
      headers: { 'retry-after-ms': '10' },
      details: { error_code: 'enforced_spend_limit_reached' },
    } as const;
    fake.enqueue(spendLimit, spendLimit, spendLimit);
    const error = await rejection(client(2).messages.create(request()));

    // The SDK's retry decision looks only at status and x-should-retry, never at the body.
    expect(fake.messageCalls()).toHaveLength(3);
    expect(error).toBeInstanceOf(Anthropic.EnforcedSpendLimitReachedError);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.name).toBe('EnforcedSpendLimitReachedError');
    expect(error.status).toBe(429);
    expect(error.errorCode).toBe('enforced_spend_limit_reached');
    expect(error.details).toEqual({ error_code: 'enforced_spend_limit_reached' });
    expect(error.error.error.details).toEqual({ error_code: 'enforced_spend_limit_reached' });
  });

  it('does not retry a spend-limit 429 that carries x-should-retry: false (1 request)', async () => {
    fake.enqueue({
      kind: 'error',
      status: 429,
      type: 'rate_limit_error',
      message: 'You have reached your specified API usage limits.',
      headers: { 'x-should-retry': 'false' },
      details: { error_code: 'enforced_spend_limit_reached' },
    });
    const error = await rejection(client(2).messages.create(request()));
    expect(fake.messageCalls()).toHaveLength(1);
    expect(error).toBeInstanceOf(Anthropic.EnforcedSpendLimitReachedError);
  });

  it('reports a refusal through stop_reason; parse() does not throw when the refusal has no text', async () => {
    fake.enqueue({ kind: 'text', text: '', stopReason: 'refusal' });
    const anthropic = client(0);
    const message = await anthropic.messages.parse(
      request({ output_config: { format: jsonSchemaOutputFormat(triageSchema) } }),
    );

    expect(message.stop_reason).toBe('refusal');
    expect(message.stop_details).toEqual({ type: 'refusal', category: null, explanation: null });
    expect(message.content).toEqual([]);
    expect(message.parsed_output).toBeNull();
    expect(message.usage.output_tokens).toBeGreaterThan(0);

    // A refusal that does carry (non-JSON) text makes parse() throw instead.
    fake.enqueue({ kind: 'text', text: "I can't help with that.", stopReason: 'refusal' });
    const error = await rejection(
      anthropic.messages.parse(request({ output_config: { format: jsonSchemaOutputFormat(triageSchema) } })),
    );
    expect(error).toBeInstanceOf(AnthropicError);
    expect(error).not.toBeInstanceOf(APIError);
  });

  it('parse() throws a plain AnthropicError (no status, no usage) on invalid JSON text', async () => {
    fake.enqueue({ kind: 'text', text: '{"priority": "medium", ' });
    const error = await rejection(
      client(2).messages.parse(request({ output_config: { format: jsonSchemaOutputFormat(triageSchema) } })),
    );

    expect(error).toBeInstanceOf(AnthropicError);
    expect(error).not.toBeInstanceOf(APIError);
    expect(error.name).toBe('AnthropicError');
    expect(error.message).toMatch(/^Failed to parse structured output: /);
    expect(error.status).toBeUndefined();
    expect(fake.messageCalls()).toHaveLength(1); // not retried
  });

  it('parse() does not look at stop_reason max_tokens: complete JSON parses, cut JSON throws', async () => {
    const anthropic = client(0);
    const format = { output_config: { format: jsonSchemaOutputFormat(triageSchema) } };
    fake.enqueue({ kind: 'json', value: DEFAULT_TRIAGE, stopReason: 'max_tokens' });
    const complete = await anthropic.messages.parse(request(format));
    expect(complete.stop_reason).toBe('max_tokens');
    expect(complete.parsed_output).toEqual(DEFAULT_TRIAGE);

    // Without a scripted stop reason the fake cuts a reply longer than max_tokens, like the model.
    const cut = await anthropic.messages.create(request({ max_tokens: 8 }));
    expect(cut.stop_reason).toBe('max_tokens');
    expect(cut.content[0]?.type === 'text' && cut.content[0].text).toBe(JSON.stringify(DEFAULT_TRIAGE).slice(0, 32));
    const error = await rejection(anthropic.messages.parse(request({ ...format, max_tokens: 8 })));
    expect(error).toBeInstanceOf(AnthropicError);
    expect(error.message).toMatch(/^Failed to parse structured output/);
  });

  it('counts tokens with ceil(characters / 4)', async () => {
    const params = { model: MODEL, system: SYSTEM_PROMPT, messages: [{ role: 'user' as const, content: USER_TEXT }] };
    const counted = await client(0).messages.countTokens(params);
    expect(counted).toEqual({ input_tokens: estimateTokens(SYSTEM_PROMPT.length + USER_TEXT.length) });
    expect(counted.input_tokens).toBe(countRequestTokens(params));
    expect(fake.requests[0].path).toBe('/v1/messages/count_tokens');
    expect(fake.messageCalls()).toHaveLength(0);
  });

  it('simulates prompt caching: first call writes the cached system block, the second reads it', async () => {
    const anthropic = client(0);
    const cached = (ttl?: '1h') => ({
      system: [
        {
          type: 'text' as const,
          text: SYSTEM_PROMPT,
          cache_control: { type: 'ephemeral' as const, ...(ttl ? { ttl } : {}) },
        },
        { type: 'text' as const, text: 'Repository: octo/hls' },
      ],
    });
    const systemTokens = estimateTokens(SYSTEM_PROMPT.length);
    const uncached = estimateTokens('Repository: octo/hls'.length + USER_TEXT.length);

    const first = await anthropic.messages.create(request(cached()));
    expect(first.usage).toMatchObject({
      input_tokens: uncached,
      cache_creation_input_tokens: systemTokens,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: systemTokens, ephemeral_1h_input_tokens: 0 },
    });
    const second = await anthropic.messages.create(request(cached()));
    expect(second.usage).toMatchObject({
      input_tokens: uncached,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: systemTokens,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    });

    // Another model has its own cache; ttl 1h is reported separately.
    const other = await anthropic.messages.create({ ...request(cached('1h')), model: 'claude-haiku-5-5' });
    expect(other.usage.cache_creation).toEqual({
      ephemeral_5m_input_tokens: 0,
      ephemeral_1h_input_tokens: systemTokens,
    });
    expect(other.usage.cache_creation_input_tokens).toBe(systemTokens);
  });

  it('rejects what the real API rejects with 400 invalid_request_error (BadRequestError, not retried)', async () => {
    const anthropic = client(2);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ temperature: 0.2 }, /^temperature:/],
      [{ top_p: 0.9 }, /^top_p:/],
      [{ top_k: 5 }, /^top_k:/],
      [
        {
          tool_choice: { type: 'tool', name: 'triage' },
          tools: [{ name: 'triage', input_schema: { type: 'object' } }],
        },
        /^tool_choice:/,
      ],
      [{ max_tokens: 0 }, /^max_tokens:/],
      [{ max_tokens: 1.5 }, /^max_tokens:/],
      [{ max_tokens: undefined }, /^max_tokens:/],
      [{ model: undefined }, /^model:/],
      [{ messages: [] }, /^messages:/],
    ];
    for (const [extra, message] of cases) {
      const error = await rejection(anthropic.messages.create(request(extra) as any));
      expect(error, JSON.stringify(extra)).toBeInstanceOf(BadRequestError);
      expect(error.status).toBe(400);
      expect(error.type).toBe('invalid_request_error');
      expect(error.apiMessage).toMatch(message);
    }
    expect(fake.messageCalls()).toHaveLength(cases.length);
  });

  it('serves FIFO scripted replies before falling back to respond()', async () => {
    await fake.close();
    const seen: string[] = [];
    fake = await startFakeAnthropic({
      respond: (req) => {
        seen.push(req.model);
        return { kind: 'json', value: { fallback: true }, usage: { output_tokens: 42 } };
      },
    });
    fake.enqueue({ kind: 'json', value: { n: 1 } }, { kind: 'text', text: 'two' });
    const anthropic = client(0);
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await anthropic.messages.create(request());
      texts.push(m.content[0]?.type === 'text' ? m.content[0].text : '');
      if (i === 2) expect(m.usage.output_tokens).toBe(42);
    }
    expect(texts).toEqual(['{"n":1}', 'two', '{"fallback":true}']);
    expect(seen).toEqual([MODEL]);
  });

  it('lists models, answers 404 elsewhere, and streams SSE for stream: true', async () => {
    const anthropic = client(0);
    const page = await anthropic.models.list();
    expect(page.data.map((m) => m.id)).toContain('claude-sonnet-5-5');
    expect(page.data[0]).toMatchObject({ type: 'model' });
    expect(page.has_more).toBe(false);

    const missing = await fetch(`${fake.url}/v1/nope`, { headers: { 'x-api-key': KEY } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('request-id')).toMatch(/^req_/);
    expect(await missing.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });

    const streamed = await anthropic.messages.stream(request()).finalMessage();
    expect(streamed.stop_reason).toBe('end_turn');
    expect(streamed.content[0]?.type === 'text' && JSON.parse(streamed.content[0].text)).toEqual(DEFAULT_TRIAGE);
    expect(streamed.usage.output_tokens).toBe(estimateTokens(JSON.stringify(DEFAULT_TRIAGE).length));
  });

  it('is reached by a separate process through ANTHROPIC_BASE_URL + ANTHROPIC_API_KEY', async () => {
    const script = `
      import Anthropic from '@anthropic-ai/sdk';
      const message = await new Anthropic({ maxRetries: 0 }).messages.create({
        model: 'claude-sonnet-5-5', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }],
      });
      process.stdout.write(JSON.stringify(message.usage));
    `;
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ANTHROPIC_')) env[k] = v;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: import.meta.dirname,
      env: { ...env, ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: KEY },
      timeout: 20_000,
    });
    expect(JSON.parse(stdout)).toMatchObject({ input_tokens: 1, cache_read_input_tokens: 0 });
    expect(fake.messageCalls()[0].headers['authorization']).toBe(`Bearer ${KEY}`);
  });

  it('applies latencyMs; a client timeout below it gives APIConnectionTimeoutError', async () => {
    await fake.close();
    fake = await startFakeAnthropic({ latencyMs: 300 });
    const error = await rejection(client(0, { timeout: 100 }).messages.create(request()));
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(error.status).toBeUndefined();

    const message = await client(0, { timeout: 5_000 }).messages.create(request());
    expect(message.stop_reason).toBe('end_turn');
  });
});
