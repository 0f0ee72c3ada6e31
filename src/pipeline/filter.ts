import type { LoadedConfig } from '../config/load.js';
import type { EffectiveRepository } from '../repository-settings/narrow.js';
import type { EventRow, IgnoredThread } from '../store/types.js';
import { capText, NAME_CHARS } from './cap.js';

export type RepositoryConfig = LoadedConfig['repositories'][number];

/** What an event is about, read from its payload by the event's handler. */
export interface Subject {
  kind: 'issue' | 'pull request' | 'release';
  number: number;
  title: string;
  body: string;
  author: string;
  url: string;
  labels: string[];
  draft: boolean;
  state: 'open' | 'closed';
  /** GitHub's updated_at (epoch ms), when the payload has it. */
  updatedAt: number | null;
}

export function repositoryConfig(config: LoadedConfig, repository: string | null): RepositoryConfig | undefined {
  return config.repositories.find((repo) => repo.name.toLowerCase() === repository?.toLowerCase());
}

/**
 * The first checks, on the indexed columns and the config only: an event nobody asked for is skipped
 * before its payload is even looked at.
 */
export function routingSkipReason(args: {
  event: EventRow;
  repo: RepositoryConfig | undefined;
  defaultActions: string[];
}): string | null {
  const { event, repo } = args;
  if (!repo) return `repository ${capText(event.repository ?? '(none)', NAME_CHARS)} is not configured`;
  if (!repo.enabled) return `repository ${repo.name} is disabled`;
  if (!(repo.events as string[]).includes(event.event_type)) {
    return `event ${event.event_type} is not enabled for ${repo.name}`;
  }
  const actions = (repo.actions as Record<string, string[] | undefined>)[event.event_type] ?? args.defaultActions;
  if (event.action && !actions.includes(event.action)) {
    return `action ${event.event_type}.${event.action} is not enabled`;
  }
  return null;
}

/**
 * Whose events hls never acts on: bots (hls itself among them) and the ignored users. Checked before a
 * comment is read as a command, so none of them can give one.
 */
export function senderSkipReason(event: EventRow, config: LoadedConfig, botLogin: string | undefined): string | null {
  const sender = event.sender_login ?? '';
  if (event.sender_type === 'Bot' || sender.endsWith('[bot]')) return `sender ${sender} is a bot`;
  if (botLogin && sender.toLowerCase() === botLogin.toLowerCase()) return `event caused by hls itself (${sender})`;
  if (config.filters.ignore_users.some((user) => user.toLowerCase() === sender.toLowerCase())) {
    return `sender ${sender} is ignored`;
  }
  return null;
}

/**
 * The checks every event passes before any model call, in order; the first that applies is the skip
 * reason recorded on the event. `defaultActions` are the handler's actions when the repository lists none.
 */
export function skipReason(args: {
  event: EventRow;
  config: LoadedConfig;
  /** The repository's effective settings (its .github/hls.yml narrowing the operator's). */
  repo: EffectiveRepository | undefined;
  defaultActions: string[];
  botLogin: string | undefined;
  subject: Subject | undefined;
  /** What the person wrote, for the minimum length rule; null where the event has no such text. */
  writtenText: string | null;
  /** Set when a maintainer told hls to leave the event's thread alone (`/hls ignore`). */
  ignoredThread?: IgnoredThread;
}): string | null {
  const { event, config, subject, repo } = args;
  const routed = routingSkipReason(args) ?? senderSkipReason(event, config, args.botLogin);
  if (routed) return routed;
  if (args.ignoredThread) {
    return `thread ignored by ${args.ignoredThread.by} (/hls ignore; /hls resume to analyse it again)`;
  }
  if (!subject) return null;
  const optOut = config.filters.opt_out_label.toLowerCase();
  if (subject.labels.some((label) => label.toLowerCase() === optOut)) {
    return `opted out with label ${config.filters.opt_out_label}`;
  }
  if (subject.draft && config.filters.skip_drafts) return 'draft pull request';
  if (args.writtenText !== null && args.writtenText.trim().length < repo!.min_body_length) {
    return `body shorter than ${repo!.min_body_length} characters`;
  }
  return null;
}
