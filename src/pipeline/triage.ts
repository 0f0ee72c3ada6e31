import type * as z from 'zod';
import type { GitHub } from '../clients/github.js';
import type { LoadedConfig } from '../config/load.js';
import type { EventRow, IgnoredThread } from '../store/types.js';
import type { Handler, HandlerContext, HandlerResult } from '../worker/handlers.js';
import { applyActions, noThreadActions, repositoryLabels } from './act.js';
import { triageSchema, type Triage } from './analysis.js';
import { analyseEvent, modelChoice, recordUnsentPrompt, type ModelChoice } from './analyze.js';
import { threadHistory } from './thread-history.js';
import { runCommand } from './commands/run.js';
import type { ParsedCommand } from './commands/parse.js';
import { repositoryConfig, routingSkipReason, senderSkipReason, skipReason, type Subject } from './filter.js';
import { TEXT_CHARS } from './cap.js';
import { triagePayload } from './payload.js';
import { renderPrompt, type RenderedPrompt } from './prompt.js';
import { indexSubject, offeredThreads, relatedCandidates, type OfferedThread } from './related.js';
import { botLogin, services, type Services } from './services.js';
import { describeSource } from '../repository-settings/describe.js';
import { repositorySettings, warnOncePerVersion } from '../repository-settings/effective.js';
import type { EffectiveRepository } from '../repository-settings/narrow.js';

type Payload = Record<string, unknown>;

/** What differs between event types; everything else is the same triage flow. */
export interface TriageSpec {
  /** Actions analysed when the repository's config lists none for this event. */
  defaultActions: string[];
  /** The payload's shape: an event whose payload does not match fails before anything is built from it. */
  payload: z.ZodType;
  /** The issue, pull request or release the event is about. */
  subject(payload: Payload): Subject | undefined;
  /**
   * The subject is the issue or pull request object of the payload itself (not one built from a
   * workflow run): it is indexed for related-issue search and its related threads are offered.
   */
  threadInPayload?: boolean;
  /** The text the minimum-length rule applies to (default: the subject's body); null for none. */
  writtenText?(payload: Payload): string | null;
  /** Event-specific reasons to skip (e.g. an edit that did not change the body materially). */
  relevance?(payload: Payload, event: EventRow, botLogin: string | undefined, config: LoadedConfig): string | null;
  /** More template variables, fetched from GitHub (a diff, job logs); `github` is undefined without a token. */
  fetchVariables?(args: {
    github: GitHub | undefined;
    repository: string;
    payload: Payload;
    config: LoadedConfig;
  }): Promise<Payload>;
  /** Events without an issue or pull request thread (releases): analysed and recorded, nothing posted. */
  threadless?: boolean;
  /** The comment command the event gives, if any (checked after the sender filters, before the others). */
  command?(payload: Payload, event: EventRow, botLogin: string | undefined): ParsedCommand | null;
}

/**
 * Builds the handler for one event type: filter → (a comment command | coalesce → (checkpoint | prompt →
 * Claude) → GitHub).
 */
export function triageHandler(spec: TriageSpec): Handler {
  return async (context) => runTriage(spec, context);
}

async function runTriage(spec: TriageSpec, context: HandlerContext): Promise<HandlerResult> {
  const { event, config, store, log } = context;
  const operatorRepo = repositoryConfig(config, event.repository);
  const routed = routingSkipReason({ event, repo: operatorRepo, defaultActions: spec.defaultActions });
  if (routed) return { skipped: routed };
  const payload = triagePayload(spec.payload, context.payload);
  const subject = spec.subject(payload);
  if (spec.threadInPayload && subject) await indexSubject(store, config, operatorRepo!.name, subject, store.clock());
  const made = services(config, log, store);
  const settings = await repositorySettings({ config, repo: operatorRepo!, store, access: made.github, log });
  await warnOncePerVersion(store, log, operatorRepo!.name, settings);
  const repo = settings.repository;
  const narrowed = routingSkipReason({ event, repo, defaultActions: spec.defaultActions });
  if (narrowed) return { skipped: `${narrowed} (${describeSource(settings.file)})` };
  const login = await botLogin(store, config, made);
  const thread: ThreadRun = { spec, context: { ...context, payload }, repo, made, login };
  const unheard = senderSkipReason(event, config, login);
  if (unheard) return { skipped: unheard };
  const command = spec.command?.(payload, event, login);
  if (command) {
    return runCommand({
      ...context,
      payload,
      repo,
      github: await made.github?.forRepository(repo.name),
      subject: subject!,
      command,
      botLogin: login,
      analyse: () => analyseThread(thread),
    });
  }
  const ignored = event.thread_key ? await store.threads.ignoredThread(event.thread_key) : undefined;
  const reason = eventSkipReason(spec, event, payload, config, repo, login, ignored);
  if (reason) return { skipped: reason };
  const threadKey = event.thread_key;

  const debounceMs = repo.debounce_seconds * 1000;
  if (debounceMs > 0 && threadKey) {
    // Only a newer event that will itself be analysed supersedes this one (not, say, a typo fix or a
    // comment command such as `@bot ignore`, which mentions the bot but analyses nothing).
    const newer = (await store.queue.newerThreadEvents({ ...event, thread_key: threadKey }, debounceMs)).find(
      (candidate) => {
        if (!candidate.payload) return false;
        const parsed = parsePayload(spec, candidate.payload);
        return (
          !spec.command?.(parsed, candidate, login) &&
          !eventSkipReason(spec, candidate, parsed, config, repo, login, ignored)
        );
      },
    );
    if (newer) return { skipped: `superseded by event ${newer.id} of the same thread` };
    if (store.clock() < event.created_at + debounceMs) {
      return {
        deferred: { until: event.created_at + debounceMs, reason: 'debounce: waiting for newer events of this thread' },
      };
    }
  }
  return analyseThread(thread);
}

/** What the analysis of one event needs once it is decided that it runs. */
interface ThreadRun {
  spec: TriageSpec;
  context: HandlerContext;
  repo: EffectiveRepository;
  made: Services;
  login: string | undefined;
}

/** Checkpoint or prompt → Claude, then the sticky comment and labels (an earlier analysis changes nothing). */
async function analyseThread({ spec, context, repo, made, login }: ThreadRun): Promise<HandlerResult> {
  const { event, payload, config, store, log } = context;
  const subject = spec.subject(payload);
  const threadKey = event.thread_key;
  const github = await made.github?.forRepository(repo.name);
  const checkpoint = await store.ledger.findCheckpoint(event.id, event.replay_count);
  let triage: Triage;
  let analysisId: number;
  if (checkpoint) {
    log.info('resuming from the recorded analysis: no second model call', {
      event_id: event.id,
      delivery_id: event.delivery_id,
    });
    triage = triageSchema.parse(JSON.parse(checkpoint.analysis_json));
    analysisId = checkpoint.id;
  } else {
    const { choice, prompt, offered } = await preparePrompt(spec, context, repo, subject!, github);
    if (!made.anthropic) {
      await recordUnsentPrompt(store, event, prompt, choice, offered);
      return { skipped: 'no ANTHROPIC_API_KEY: prompt recorded, nothing sent' };
    }
    const result = await analyseEvent({
      store,
      client: made.anthropic,
      keySha256: made.anthropicKeySha256!,
      config,
      repo,
      event,
      prompt,
      choice,
      offered,
      signal: context.signal,
    });
    if (result.kind === 'deferred') return { deferred: { until: result.until, reason: result.reason } };
    ({ triage, analysisId } = result);
  }

  const actions = threadKey
    ? await applyActions({
        store,
        analysisId,
        github,
        config,
        repo,
        threadKey,
        subject: subject!,
        triage,
        dryRun: context.dryRun,
        botLogin: login,
        signal: context.signal,
      })
    : noThreadActions();
  await store.ledger.recordActions(analysisId, JSON.stringify(actions));
  log.info('triaged', {
    event_id: event.id,
    delivery_id: event.delivery_id,
    priority: triage.priority,
    comment: actions.comment.action,
    labels_added: actions.labels.added,
  });
}

/** Why an event is not analysed (filters, then the handler's own rules), or null. */
function eventSkipReason(
  spec: TriageSpec,
  event: EventRow,
  payload: Payload,
  config: LoadedConfig,
  repo: EffectiveRepository,
  login: string | undefined,
  ignoredThread: IgnoredThread | undefined,
): string | null {
  const subject = spec.subject(payload);
  const writtenText = spec.writtenText ? spec.writtenText(payload) : (subject?.body ?? null);
  return (
    skipReason({
      event,
      config,
      repo,
      defaultActions: spec.defaultActions,
      botLogin: login,
      subject,
      writtenText,
      ignoredThread,
    }) ??
    spec.relevance?.(payload, event, login, config) ??
    (subject && (event.thread_key || spec.threadless) ? null : 'no issue or pull request in the payload')
  );
}

/** A stored payload as the handler reads it; one that fails its check is read as empty (it never supersedes). */
function parsePayload(spec: TriageSpec, payload: Buffer): Payload {
  try {
    return triagePayload(spec.payload, JSON.parse(payload.toString('utf8')) as Payload);
  } catch {
    return {};
  }
}

/**
 * The model, template and rendered prompt for an event, exactly as they would be sent, and the related
 * threads it offers (null for an event whose subject is not an issue or pull request of the payload).
 */
export async function preparePrompt(
  spec: TriageSpec,
  context: Pick<HandlerContext, 'event' | 'payload' | 'config' | 'store'>,
  repo: EffectiveRepository,
  subject: Subject,
  github: GitHub | undefined,
): Promise<{ choice: ModelChoice; prompt: RenderedPrompt; offered: OfferedThread[] | null }> {
  const { event, payload, config, store } = context;
  const choice = modelChoice(config, event.event_type);
  const related = spec.threadInPayload ? await relatedCandidates(store, config, repo.name, subject) : null;
  const variables = {
    ...(await promptVariables(context, repo, subject, github)),
    related: related ?? [],
    ...(await spec.fetchVariables?.({ github, repository: repo.name, payload, config })),
  };
  return {
    choice,
    prompt: await renderPrompt(event.event_type, choice.template, variables, repo.prompts_dir),
    offered: related && offeredThreads(related),
  };
}

/** The template variables every event has; the labels listed are those the model may choose. */
export async function promptVariables(
  context: Pick<HandlerContext, 'event' | 'payload' | 'config' | 'store'>,
  repo: EffectiveRepository,
  subject: Subject,
  github: GitHub | undefined,
): Promise<Payload> {
  const { event, payload, config, store } = context;
  const allowed = new Set(repo.labels.allowed.map((name) => name.toLowerCase()));
  const known = github
    ? await repositoryLabels(store, github, config, repo.name)
    : repo.labels.definitions.map((definition) => ({
        name: definition.name,
        description: definition.description ?? null,
      }));
  const labels = known.filter((label) => allowed.has(label.name.toLowerCase()));
  return {
    repository: { name: repo.name, guidance: repo.guidance },
    event: { type: event.event_type, action: event.action, delivery: event.delivery_id },
    payload,
    subject,
    labels,
    history: await threadHistory(store, event, config.filters.history_chars),
    limits: { body_chars: TEXT_CHARS, diff_chars: config.filters.diff_chars, log_chars: config.filters.log_chars },
  };
}
