import type Anthropic from '@anthropic-ai/sdk';
import type { LoadedConfig } from '../config/load.js';
import { modelScope, SHORT_PAUSE_MS, spendScope } from '../limits/anthropic-gate.js';
import { RateLimitWait } from '../limits/wait.js';
import type { Store } from '../store/store.js';
import type { AnalysisOutcome, EventRow, Pause, Reservation } from '../store/types.js';
import { parseTriage, TRIAGE_JSON_SCHEMA, type Triage } from './analysis.js';
import { costUsd, maxCostUsd, pricesFor, promptTokenBound } from './cost.js';
import type { RepositoryConfig } from './filter.js';
import { loadSystemPrompt, type RenderedPrompt } from './prompt.js';
import { keepOffered, type OfferedThread } from './related.js';

export interface ModelChoice {
  model: string;
  maxTokens: number;
  template: string;
}

export function modelChoice(config: LoadedConfig, eventType: string): ModelChoice {
  const perEvent = (config.claude.events as Record<string, { model?: string; max_tokens?: number; template?: string }>)[
    eventType
  ];
  return {
    model: perEvent?.model ?? config.claude.model,
    maxTokens: perEvent?.max_tokens ?? config.claude.max_tokens,
    template: perEvent?.template ?? 'analyze',
  };
}

export type AnalysisResult =
  { kind: 'analysed'; analysisId: number; triage: Triage } | { kind: 'deferred'; until: number; reason: string };

/** A model answer that cannot be used: recorded and paid for, then failed for good. */
export class UnusableAnswerError extends Error {
  readonly retryable = false;
}

/** A spend-limit stop, or a rate-limit pause of the model calls of every process longer than `atLeastMs`. */
async function modelPause(
  store: Store,
  keySha256: string,
  atLeastMs: number,
): Promise<{ until: number; reason: string } | undefined> {
  const spend = await store.limits.activePause(spendScope(keySha256));
  if (spend) return { until: spreadAfter(spend), reason: `${spend.reason}: model calls stopped until then` };
  const paused = await store.limits.activePause(modelScope(keySha256));
  if (paused && paused.until_at - store.clock() > atLeastMs)
    return { until: spreadAfter(paused), reason: paused.reason };
  return undefined;
}

/** The waiting events come back spread over a tenth of the pause (at most a minute), not all at once. */
function spreadAfter(pause: Pause): number {
  return pause.until_at + Math.round(Math.random() * Math.min(60_000, (pause.until_at - pause.started_at) / 10));
}

/** A 429/529 answer, or a request the gate refused to send during a pause (the SDK wraps it as the cause). */
function rateLimited(error: unknown): boolean {
  const { status, cause } = (error ?? {}) as { status?: unknown; cause?: unknown };
  return status === 429 || status === 529 || error instanceof RateLimitWait || cause instanceof RateLimitWait;
}

function nextUtcMidnight(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) + 86_400_000;
}

/**
 * One model call for one event: estimate its worst case, reserve budget, write the ledger row (`sent`),
 * call, and settle the row and the reservation to the real cost before anything else happens. A call that does not fit the budget defers the event to the next UTC day; a
 * spend-limit stop or a long rate-limit pause (shared by all processes) defers it until that ends.
 */
export async function analyseEvent(args: AnalysisArgs): Promise<AnalysisResult> {
  const { store, keySha256 } = args;
  const paused = await modelPause(store, keySha256, SHORT_PAUSE_MS);
  if (paused) return { kind: 'deferred', ...paused };
  try {
    return await callModel(args);
  } catch (error) {
    // The answer paused every process (spend limit, 429/529): wait with them instead of counting an attempt.
    const pausedNow = rateLimited(error) ? await modelPause(store, keySha256, 0) : undefined;
    if (pausedNow) return { kind: 'deferred', ...pausedNow };
    throw error;
  }
}

interface AnalysisArgs {
  store: Store;
  client: Anthropic;
  /** sha256 of the API key: names the pauses this key shares with other processes. */
  keySha256: string;
  config: LoadedConfig;
  repo: RepositoryConfig;
  event: EventRow;
  prompt: RenderedPrompt;
  choice: ModelChoice;
  /** The related threads offered in the prompt; null when none were searched for. */
  offered: OfferedThread[] | null;
  /** Aborts the request when the worker shuts down or loses the lease (the reservation is released). */
  signal: AbortSignal;
}

async function callModel(args: AnalysisArgs): Promise<AnalysisResult> {
  const { store, client, config, repo, event, prompt, choice, offered, signal } = args;
  const prices = pricesFor(choice.model, config.claude.prices);
  // output_config belongs in the count too: the API adds the schema's own tokens to the prompt.
  const request = {
    model: choice.model,
    system: [{ type: 'text' as const, text: loadSystemPrompt(), cache_control: { type: 'ephemeral' as const } }],
    messages: [{ role: 'user' as const, content: prompt.text }],
    output_config: { format: { type: 'json_schema' as const, schema: TRIAGE_JSON_SCHEMA } },
  };
  const limits = { dailyUsd: config.claude.daily_budget_usd, repositoryUsd: repo.daily_budget_usd };
  const budgeted = limits.dailyUsd !== undefined || limits.repositoryUsd !== undefined;
  // A budget needs the exact count; without one, the bound costs no request.
  const promptTokens = budgeted
    ? (await client.messages.countTokens(request, { signal })).input_tokens
    : promptTokenBound([request.system[0].text, prompt.text, JSON.stringify(TRIAGE_JSON_SCHEMA)]);
  const estimate = maxCostUsd(promptTokens, choice.maxTokens, prices);
  let reservation: Reservation | null = null;
  if (budgeted) {
    const smallest = Math.min(limits.dailyUsd ?? Infinity, limits.repositoryUsd ?? Infinity);
    if (estimate > smallest) {
      throw new UnusableAnswerError(
        `one call may cost up to $${estimate.toFixed(4)}, more than the daily budget of $${smallest}`,
      );
    }
    const reserved = await store.ledger.reserveBudget(
      { eventId: event.id, repository: repo.name, amountUsd: estimate },
      limits,
    );
    reservation = reserved.reservation;
    if (!reservation) {
      return {
        kind: 'deferred',
        until: nextUtcMidnight(reserved.day),
        reason: `daily budget exhausted for ${reserved.day}`,
      };
    }
  }

  const callId = await store.ledger.recordSentCall({
    ...ledgerEntry(event, prompt, choice, offered),
    reservedUsd: estimate,
    attempt: event.attempts,
    reservationId: reservation?.id ?? null,
  });
  const started = Date.now();
  // hls's own deadline, not the SDK's timeout: the SDK would send a timed-out request again, and each
  // attempt may be billed while the ledger holds one row. Aborted, the call counts once, at its worst case.
  const timeoutMs = config.claude.timeout_seconds * 1000;
  const deadline = AbortSignal.timeout(timeoutMs);
  const callSignal = AbortSignal.any([signal, deadline]);
  let message: Anthropic.Message;
  let requestId: string | null;
  try {
    const { data, request_id } = await client.messages
      .create({ ...request, max_tokens: choice.maxTokens }, { signal: callSignal, timeout: timeoutMs + 60_000 })
      .withResponse();
    message = data;
    requestId = request_id ?? null;
  } catch (error) {
    if (mayHaveBeenBilled(error, callSignal)) await store.ledger.settleAtWorstCase(callId);
    else await store.ledger.dropUnbilledCall(callId, reservation);
    if (deadline.aborted && !signal.aborted) throw claudeTimeout(timeoutMs, error);
    throw error;
  }
  const cost = costUsd(message.usage, prices);

  const text = message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
  const parsed = offeredOnly(parseTriage(text), offered);
  const outcome: AnalysisOutcome =
    message.stop_reason === 'refusal'
      ? 'refusal'
      : message.stop_reason === 'max_tokens'
        ? 'max_tokens'
        : parsed.ok
          ? 'ok'
          : 'invalid';
  await store.ledger.settleCall(
    callId,
    {
      response: text,
      outcome,
      analysisJson: outcome === 'ok' && parsed.ok ? JSON.stringify(parsed.triage) : null,
      inputTokens: message.usage.input_tokens,
      outputTokens: message.usage.output_tokens,
      cacheWriteTokens: message.usage.cache_creation_input_tokens ?? 0,
      cacheReadTokens: message.usage.cache_read_input_tokens ?? 0,
      costUsd: cost,
      processingMs: Date.now() - started,
      requestId,
    },
    reservation,
  );
  if (outcome === 'refusal') throw new UnusableAnswerError('the model refused to answer (stop_reason refusal)');
  if (outcome === 'max_tokens') {
    throw new UnusableAnswerError(`the answer was cut at max_tokens (${choice.maxTokens}); raise claude.max_tokens`);
  }
  if (!parsed.ok) throw new UnusableAnswerError(parsed.reason);
  return { kind: 'analysed', analysisId: callId, triage: parsed.triage };
}

/** The answer with only the offered threads in `related` and `duplicate_of`. */
function offeredOnly(parsed: ReturnType<typeof parseTriage>, offered: OfferedThread[] | null): typeof parsed {
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    triage: keepOffered(
      parsed.triage,
      (offered ?? []).map((thread) => thread.number),
    ).triage,
  };
}

/**
 * A request given up while in flight (the worker stopped or lost the lease; the deadline passed) or cut
 * after it was sent (a connection reset while the answer was awaited) may have been processed and
 * billed. One the API answered with an error, that the gate held back during a pause, or whose
 * connection was never made, was not.
 */
function mayHaveBeenBilled(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return true;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'APIConnectionTimeoutError') return true;
  if (name !== 'APIConnectionError') return false;
  for (let cause = (error as Error).cause; cause; cause = (cause as Error).cause) {
    if (cause instanceof RateLimitWait) return false;
    if (NEVER_CONNECTED.has((cause as { code?: string }).code ?? '')) return false;
  }
  return true;
}

/** Socket errors that mean the request never reached the API. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function claudeTimeout(timeoutMs: number, cause: unknown): Error {
  const error = new Error(`no answer from Claude within ${timeoutMs / 1000} s (claude.timeout_seconds)`, { cause });
  error.name = 'TimeoutError';
  return error;
}

/** Without an API key nothing is sent: the rendered prompt is kept so the operator can see it. */
export async function recordUnsentPrompt(
  store: Store,
  event: EventRow,
  prompt: RenderedPrompt,
  choice: ModelChoice,
  offered: OfferedThread[] | null,
): Promise<void> {
  await store.ledger.recordAnalysis({
    ...ledgerEntry(event, prompt, choice, offered),
    response: null,
    outcome: 'not_sent',
    analysisJson: null,
    inputTokens: 0,
    outputTokens: 0,
    cacheWriteTokens: 0,
    cacheReadTokens: 0,
    costUsd: 0,
    processingMs: 0,
    requestId: null,
  });
}

/** The ledger fields that describe the event and the prompt rather than the answer. */
function ledgerEntry(event: EventRow, prompt: RenderedPrompt, choice: ModelChoice, offered: OfferedThread[] | null) {
  return {
    eventId: event.id,
    eventType: event.event_type,
    repository: event.repository,
    model: choice.model,
    template: prompt.template,
    prompt: prompt.text,
    replayGeneration: event.replay_count,
    similarOffered: offered ? JSON.stringify(offered) : null,
  };
}
