import type { HandlerRegistry } from '../../worker/handlers.js';
import { triageHandler, type TriageSpec } from '../triage.js';
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

/** The built-in handlers; an operator's `handlers:` modules registered afterwards replace them. */
export function registerBuiltinHandlers(registry: HandlerRegistry): void {
  for (const [eventType, spec] of Object.entries(TRIAGE_SPECS)) registry.register(eventType, triageHandler(spec));
  registry.register('ping', async () => ({ skipped: 'ping: GitHub checking the hook' }));
}
