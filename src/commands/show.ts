import type { LoadedConfig } from '../config/load.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { OfferedThread } from '../pipeline/related.js';
import { repositoryConfig } from '../pipeline/filter.js';
import { describeSettingsFile } from '../repository-settings/describe.js';
import { storedRepositorySettings } from '../repository-settings/effective.js';
import { SETTINGS_PATH } from '../repository-settings/narrow.js';
import type { Store } from '../store/store.js';
import type { EventRow, LedgerEntry } from '../store/types.js';
import { commandContext, withStore, type GlobalOptions } from './command-context.js';
import { formatMs, isoTime, printJson, printLines, table } from './format.js';

export interface ShowFlags extends GlobalOptions {
  json?: boolean;
  payload?: boolean;
}

/** `hls show ID|DELIVERY`: one event with its status history, last error and a payload summary. */
export async function runShow(ref: string, flags: ShowFlags): Promise<number> {
  const { config, database } = commandContext(flags);
  return withStore(database, async (store) => {
    const event = await store.queue.find(ref);
    if (!event) throw new CliError(`no event with id or delivery "${ref}"`, EXIT.NO_INPUT);
    if (flags.payload) {
      if (!event.payload) throw new CliError(`event ${event.id}: payload was pruned`, EXIT.NO_INPUT);
      process.stdout.write(event.payload);
      return EXIT.OK;
    }
    const settings = await settingsLine(config, store, event);
    const history = await store.queue.history(event.id);
    const calls = await store.ledger.eventLedger(event.id);
    const report = {
      ...eventSummary(event),
      repository_settings: settings,
      analyses: await store.ledger.analysisTotals(event.id),
      calls: calls.map(({ similar_offered, analysis_json, ...call }) => ({
        ...call,
        created_at: isoTime(call.created_at),
        related: relatedOfCall({ similar_offered, analysis_json }),
      })),
      history: history.map((h) => ({ ...h, at: isoTime(h.at) })),
    };
    if (flags.json) {
      printJson(report);
      return EXIT.OK;
    }
    printLines([
      `event ${event.id}  ${event.delivery_id}  ${report.event}  ${event.repository ?? '-'}`,
      `status      ${event.status}${event.skip_reason ? ` (${event.skip_reason})` : ''}  attempts ${event.attempts}  replays ${event.replay_count}`,
      `received    ${report.created_at}`,
      `scheduled   ${report.scheduled_at}${event.wait_reason ? `  (${event.wait_reason})` : ''}`,
      ...(event.started_at ? [`started     ${report.started_at}`] : []),
      ...(event.completed_at
        ? [
            `finished    ${report.completed_at}  (${formatMs(event.completed_at - (event.started_at ?? event.completed_at))})`,
          ]
        : []),
      ...(event.locked_by ? [`lease       ${event.locked_by} until ${report.locked_until}`] : []),
      ...(event.error_message ? [`last error  ${event.error_class}: ${event.error_message}`] : []),
      `payload     ${report.payload.bytes} bytes  sha256 ${event.payload_sha256}${report.payload.title ? `  "${report.payload.title}"` : ''}`,
      ...(report.payload.url ? [`url         ${report.payload.url}`] : []),
      `sender      ${event.sender_login ?? '-'} (${event.sender_type ?? '-'})`,
      ...(settings ? [`settings    ${settings.line}`] : []),
      `analyses    ${report.analyses.analyses}  tokens ${report.analyses.tokens}  cost $${report.analyses.cost_usd.toFixed(4)}`,
      ...calls.flatMap((call) => [callLine(call), ...relatedLines(relatedOfCall(call))]),
      '',
      ...table(
        ['at', 'from', 'to', 'attempt', 'worker', 'detail'],
        history.map((h) => [
          isoTime(h.at)!,
          h.from_status ?? '-',
          h.to_status,
          h.attempt,
          h.worker ?? '-',
          h.skip_reason ?? (h.error_message ? `${h.error_class}: ${h.error_message}` : ''),
        ]),
      ),
    ]);
    return EXIT.OK;
  });
}

/**
 * The repository's .github/hls.yml as the database last had it (as it applies now, not necessarily when
 * the event ran); null for a repository that is not configured.
 */
async function settingsLine(config: LoadedConfig, store: Store, event: EventRow) {
  const repo = repositoryConfig(config, event.repository);
  if (!repo) return null;
  const settings = await storedRepositorySettings({ config, repo, store, env: process.env });
  if (!settings)
    return { state: 'not read yet', line: `${SETTINGS_PATH} not read yet (a worker reads it at the next event)` };
  return { ...settings.file, line: describeSettingsFile(settings.file) };
}

/** One model call; `sent` and `unsettled` ones are counted at their worst case. */
function callLine(call: LedgerEntry): string {
  const atWorst = call.outcome === 'sent' || call.outcome === 'unsettled' ? ' (worst case)' : '';
  return `  call ${call.id}  ${isoTime(call.created_at)}  ${call.model ?? '-'}  ${call.outcome}  tokens ${call.tokens}  $${call.cost_usd.toFixed(4)}${atWorst}`;
}

/** The threads a call offered as related and those the model chose; null when none were searched for. */
function relatedOfCall(call: Pick<LedgerEntry, 'similar_offered' | 'analysis_json'>) {
  if (call.similar_offered === null) return null;
  const offered = JSON.parse(call.similar_offered) as OfferedThread[];
  const answer = call.analysis_json
    ? (JSON.parse(call.analysis_json) as { related?: number[]; duplicate_of?: number | null })
    : undefined;
  return {
    offered,
    chosen: answer ? (answer.related ?? []) : null,
    duplicate_of: answer?.duplicate_of ?? null,
  };
}

function relatedLines(related: ReturnType<typeof relatedOfCall>): string[] {
  if (!related) return [];
  const offered = related.offered.map((thread) => `#${thread.number} (${thread.score.toFixed(2)})`).join(', ');
  const chosen = related.chosen === null ? 'no valid answer' : related.chosen.map((n) => `#${n}`).join(', ') || 'none';
  return [
    `    related offered ${offered || 'none'}`,
    `    related chosen  ${chosen}${related.duplicate_of === null ? '' : `; duplicate of #${related.duplicate_of}`}`,
  ];
}

function eventSummary(event: EventRow) {
  return {
    id: event.id,
    delivery_id: event.delivery_id,
    event: event.action ? `${event.event_type}.${event.action}` : event.event_type,
    event_type: event.event_type,
    action: event.action,
    repository: event.repository,
    thread_key: event.thread_key,
    sender: { login: event.sender_login, type: event.sender_type },
    status: event.status,
    skip_reason: event.skip_reason,
    wait_reason: event.wait_reason,
    attempts: event.attempts,
    replay_count: event.replay_count,
    priority: event.priority,
    created_at: isoTime(event.created_at),
    scheduled_at: isoTime(event.scheduled_at),
    started_at: isoTime(event.started_at),
    completed_at: isoTime(event.completed_at),
    locked_by: event.locked_by,
    locked_until: isoTime(event.locked_until),
    error_class: event.error_class,
    error_message: event.error_message,
    payload: {
      bytes: event.payload_size,
      sha256: event.payload_sha256,
      pruned: event.payload === null,
      ...payloadFacts(event.payload),
    },
  };
}

/** Title and link of the issue, pull request, run or release the payload is about, when it has one. */
function payloadFacts(payload: Buffer | null): { title: string | null; url: string | null } {
  let body: Record<string, { title?: unknown; name?: unknown; html_url?: unknown } | undefined>;
  try {
    body = payload ? JSON.parse(payload.toString('utf8')) : {};
  } catch {
    return { title: null, url: null };
  }
  const subject = body.issue ?? body.pull_request ?? body.workflow_run ?? body.release ?? body.discussion;
  const title = subject?.title ?? subject?.name;
  return {
    title: typeof title === 'string' ? title : null,
    url: typeof subject?.html_url === 'string' ? subject.html_url : null,
  };
}
