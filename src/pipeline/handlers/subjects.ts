import type { Subject } from '../filter.js';

type Json = Record<string, unknown>;

/** Reads an issue or pull request object of a webhook payload leniently (examples vary in shape). */
export function subjectOf(kind: Subject['kind'], item: unknown): Subject | undefined {
  const value = item as Json | undefined;
  if (!value || typeof value.number !== 'number') return undefined;
  const user = value.user as Json | undefined;
  const labels = Array.isArray(value.labels) ? (value.labels as Json[]) : [];
  return {
    kind,
    number: value.number,
    title: typeof value.title === 'string' ? value.title : '',
    body: typeof value.body === 'string' ? value.body : '',
    author: typeof user?.login === 'string' ? user.login : 'unknown',
    url: typeof value.html_url === 'string' ? value.html_url : '',
    labels: labels.flatMap((label) => (typeof label?.name === 'string' ? [label.name] : [])),
    draft: value.draft === true,
    state: value.state === 'closed' ? 'closed' : 'open',
    updatedAt: typeof value.updated_at === 'string' ? Date.parse(value.updated_at) || null : null,
  };
}

/** `issue` objects of issues and issue_comment payloads are pull requests when they carry `pull_request`. */
export function issueOrPullSubject(issue: unknown): Subject | undefined {
  return subjectOf((issue as { pull_request?: unknown } | undefined)?.pull_request ? 'pull request' : 'issue', issue);
}
