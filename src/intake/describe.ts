import { GITHUB_NAME, isGitHubNumber, isRepositoryName } from './fields.js';

/** What the queue indexes about an event, read leniently from the payload (examples vary in shape). */
export interface EventSummary {
  action: string | null;
  repository: string | null;
  threadKey: string | null;
  senderLogin: string | null;
  senderType: string | null;
}

type Json = Record<string, unknown>;

export function describeEvent(eventType: string, payload: Json): EventSummary {
  const repository = stringAt(payload, 'repository', 'full_name');
  const number = threadNumber(eventType, payload);
  return {
    // Not a GitHub action name: indexed as none, and the worker's payload check fails the event.
    action: typeof payload.action === 'string' && GITHUB_NAME.test(payload.action) ? payload.action : null,
    repository,
    threadKey: isRepositoryName(repository) && number !== null ? `${repository}#${number}` : null,
    senderLogin: stringAt(payload, 'sender', 'login'),
    senderType: stringAt(payload, 'sender', 'type'),
  };
}

/** Issues and pull requests share one number space per repository, so one key covers both. */
function threadNumber(eventType: string, payload: Json): number | null {
  switch (eventType) {
    case 'issues':
    case 'issue_comment':
      return numberAt(payload, 'issue');
    case 'pull_request':
    case 'pull_request_review':
    case 'pull_request_review_comment':
    case 'pull_request_review_thread':
      return numberAt(payload, 'pull_request');
    case 'workflow_run': {
      const run = payload.workflow_run as Json | undefined;
      const pulls = Array.isArray(run?.pull_requests) ? (run.pull_requests as Json[]) : [];
      return pulls.length > 0 ? numberAt({ pr: pulls[0] }, 'pr') : null;
    }
    default:
      return null;
  }
}

function numberAt(payload: Json, key: string): number | null {
  const value = (payload[key] as Json | undefined)?.number;
  return isGitHubNumber(value) ? value : null;
}

function stringAt(payload: Json, key: string, field: string): string | null {
  const value = (payload[key] as Json | null | undefined)?.[field];
  return typeof value === 'string' ? value : null;
}
