import type { TriageSpec } from '../triage.js';
import { issueComments } from './comments.js';
import { issues } from './issues.js';
import { pullRequestReviews, pullRequests } from './pull-requests.js';
import { releases } from './releases.js';
import { workflowRuns } from './workflow-runs.js';

/** The event types hls triages, each with what differs in its flow. */
export const TRIAGE_SPECS: Record<string, TriageSpec> = {
  issues,
  issue_comment: issueComments,
  pull_request: pullRequests,
  pull_request_review: pullRequestReviews,
  workflow_run: workflowRuns,
  release: releases,
};

/** The actions analysed per event type when a repository's config lists none. */
export const DEFAULT_ACTIONS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(TRIAGE_SPECS).map(([eventType, spec]) => [eventType, spec.defaultActions]),
);
