import type { TriageSpec } from '../triage.js';
import { eventPayload, numbered } from './payload-shapes.js';
import { issueOrPullSubject } from './subjects.js';

/** Share of the body that must change for an edit to be analysed again. */
const MATERIAL_CHANGE = 0.2;

/** issues: opened and reopened; edited only when the body changed materially. */
export const issues: TriageSpec = {
  defaultActions: ['opened', 'reopened', 'edited'],
  payload: eventPayload({ issue: numbered }),
  subject: (payload) => issueOrPullSubject(payload.issue),
  threadInPayload: true,
  relevance(payload, event) {
    if (event.action !== 'edited') return null;
    const before = (payload.changes as { body?: { from?: unknown } } | undefined)?.body?.from;
    if (typeof before !== 'string') return 'edit did not change the body';
    const after = String((payload.issue as { body?: unknown }).body ?? '');
    return changedShare(before, after) < MATERIAL_CHANGE ? 'edit did not change the body materially' : null;
  },
};

/** Rough share of characters that differ, from the common prefix and suffix. */
function changedShare(before: string, after: string): number {
  const longest = Math.max(before.length, after.length);
  if (longest === 0) return 0;
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < before.length - prefix &&
    suffix < after.length - prefix &&
    before[before.length - 1 - suffix] === after[after.length - 1 - suffix]
  ) {
    suffix++;
  }
  return (longest - prefix - suffix) / longest;
}
