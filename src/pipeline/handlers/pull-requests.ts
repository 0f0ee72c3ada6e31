import { pullRequestChanges } from '../github-fetch.js';
import type { TriageSpec } from '../triage.js';
import { eventPayload, numbered } from './payload-shapes.js';
import { subjectOf } from './subjects.js';

const pullRequestPayload = eventPayload({ pull_request: numbered });

/** pull_request: opened, reopened, ready for review and new commits; drafts are skipped by the filter. */
export const pullRequests: TriageSpec = {
  defaultActions: ['opened', 'reopened', 'ready_for_review', 'synchronize'],
  payload: pullRequestPayload,
  subject: (payload) => subjectOf('pull request', payload.pull_request),
  threadInPayload: true,
  // A pull request's description may be empty; the diff is what gets reviewed.
  writtenText: () => null,
  async fetchVariables({ github, repository, payload, config }) {
    const number = (payload.pull_request as { number: number }).number;
    if (!github) return { changes: null };
    return { changes: await pullRequestChanges(github, repository, number, config.filters.diff_chars) };
  },
};

/** pull_request_review: submitted, when the review says something or requests changes. */
export const pullRequestReviews: TriageSpec = {
  defaultActions: ['submitted'],
  payload: pullRequestPayload,
  subject: (payload) => subjectOf('pull request', payload.pull_request),
  threadInPayload: true,
  writtenText: (payload) => {
    const review = payload.review as { body?: unknown; state?: unknown } | undefined;
    // A "changes requested" review matters even without text; the length rule applies to the others.
    if (String(review?.state ?? '').toLowerCase() === 'changes_requested') return null;
    return typeof review?.body === 'string' ? review.body : '';
  },
};
