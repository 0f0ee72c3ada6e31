import type { TriageSpec } from '../triage.js';
import { eventPayload, numbered } from './payload-shapes.js';
import { issueOrPullSubject } from './subjects.js';

/**
 * issue_comment: created. A comment is thread context for later analyses; it is analysed itself only
 * when it contains the trigger (filters.comment_trigger, default "@" + the bot's login).
 */
export const issueComments: TriageSpec = {
  defaultActions: ['created'],
  payload: eventPayload({ issue: numbered }),
  subject: (payload) => issueOrPullSubject(payload.issue),
  writtenText: (payload) => String((payload.comment as { body?: unknown } | undefined)?.body ?? ''),
  relevance(payload, _event, botLogin, config) {
    const trigger = config.filters.comment_trigger ?? (botLogin ? `@${botLogin}` : undefined);
    const body = String((payload.comment as { body?: unknown } | undefined)?.body ?? '');
    if (!trigger)
      return 'recorded as thread context (no comment trigger: set filters.comment_trigger or github.bot_login)';
    return body.toLowerCase().includes(trigger.toLowerCase()) ? null : 'recorded as thread context';
  },
};
