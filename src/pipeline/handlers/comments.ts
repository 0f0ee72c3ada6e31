import { botMention, parseCommand } from '../commands/parse.js';
import type { TriageSpec } from '../triage.js';
import { eventPayload, numbered } from './payload-shapes.js';
import { issueOrPullSubject } from './subjects.js';

const commentBody = (payload: Record<string, unknown>): string =>
  String((payload.comment as { body?: unknown } | undefined)?.body ?? '');

/**
 * issue_comment: created. A new comment whose first line is a command (`/hls triage`, `@<bot> ignore`…)
 * is a command, taken from maintainers only. Any other comment is thread context for later analyses;
 * it is analysed itself only when it contains the trigger (filters.comment_trigger, default "@" + the
 * bot's login).
 */
export const issueComments: TriageSpec = {
  defaultActions: ['created'],
  payload: eventPayload({ issue: numbered }),
  subject: (payload) => issueOrPullSubject(payload.issue),
  threadInPayload: true,
  writtenText: commentBody,
  command: (payload, event, botLogin) =>
    event.action === 'created' ? parseCommand(commentBody(payload), botLogin) : null,
  relevance(payload, _event, botLogin, config) {
    const trigger = config.filters.comment_trigger ?? (botLogin ? botMention(botLogin) : undefined);
    const body = commentBody(payload);
    if (!trigger)
      return 'recorded as thread context (no comment trigger: set filters.comment_trigger or github.bot_login)';
    return body.toLowerCase().includes(trigger.toLowerCase()) ? null : 'recorded as thread context';
  },
};
