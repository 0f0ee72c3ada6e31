import type { HandlerRegistry } from '../../worker/handlers.js';
import { issueCommentHandler } from './comments.js';
import { issuesHandler } from './issues.js';
import { pullRequestHandler, pullRequestReviewHandler } from './pull-requests.js';
import { releaseHandler } from './releases.js';
import { workflowRunHandler } from './workflow-runs.js';

/** The built-in handlers; an operator's `handlers:` modules registered afterwards replace them. */
export function registerBuiltinHandlers(registry: HandlerRegistry): void {
  registry.register('issues', issuesHandler);
  registry.register('issue_comment', issueCommentHandler);
  registry.register('pull_request', pullRequestHandler);
  registry.register('pull_request_review', pullRequestReviewHandler);
  registry.register('workflow_run', workflowRunHandler);
  registry.register('release', releaseHandler);
  registry.register('ping', async () => ({ skipped: 'ping: GitHub checking the hook' }));
}
