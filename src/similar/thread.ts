import type { IndexedThread } from '../store/types.js';

type Json = Record<string, unknown>;

/**
 * An issue or pull request object as GitHub sends it (the issues list, an `issue` or `pull_request` of
 * a webhook payload) as the index takes it; undefined when it has no number. An `issue` object is a
 * pull request when it carries `pull_request`.
 */
export function indexedThread(
  repository: string,
  item: unknown,
  kind?: IndexedThread['kind'],
): IndexedThread | undefined {
  const value = item as Json | null | undefined;
  if (!value || typeof value !== 'object' || typeof value.number !== 'number') return undefined;
  const updated = typeof value.updated_at === 'string' ? Date.parse(value.updated_at) : Number.NaN;
  return {
    repository,
    number: value.number,
    kind: kind ?? (value.pull_request ? 'pull_request' : 'issue'),
    title: typeof value.title === 'string' ? value.title : '',
    body: typeof value.body === 'string' ? value.body : '',
    state: value.state === 'closed' ? 'closed' : 'open',
    url: typeof value.html_url === 'string' ? value.html_url : null,
    updated_at: Number.isFinite(updated) ? updated : 0,
  };
}

/** The issue or pull request a webhook payload is about (issues, issue_comment, pull_request…), if any. */
export function payloadThread(repository: string, payload: unknown): IndexedThread | undefined {
  const value = payload as Json | null | undefined;
  if (!value || typeof value !== 'object') return undefined;
  return indexedThread(repository, value.issue) ?? indexedThread(repository, value.pull_request, 'pull_request');
}

/** The text a search for threads like this one reads: its title, then its body. */
export function searchText(thread: Pick<IndexedThread, 'title' | 'body'>): string {
  return `${thread.title}\n\n${thread.body}`;
}
