import type { GitHub } from '../clients/github.js';
import type { Store } from '../store/store.js';
import type { BackfillState, IndexedThread } from '../store/types.js';
import { indexedThread } from './thread.js';

/** Issues and pull requests asked for in one request (GitHub's maximum). */
export const BACKFILL_PAGE_SIZE = 100;

export interface BackfillProgress {
  repository: string;
  /** The page just indexed. */
  page: number;
  /** Threads on it. */
  threads: number;
  /** Threads indexed by the backfill of this repository so far, earlier runs included. */
  indexed: number;
}

export interface BackfillResult {
  repository: string;
  /** Pages read by this run. */
  pages: number;
  /** Threads read by this run. */
  read: number;
  /** Threads indexed by the backfill of this repository so far, earlier runs included. */
  indexed: number;
  /** The page the next run starts from. */
  next_page: number;
  done: boolean;
}

/**
 * `hls similar index`: reads the repository's issues and pull requests oldest first, a page at a time,
 * indexing each page together with the page to read next, so that a run cut short (a failed request, a
 * rate limit, a kill) is continued by the next run without reading a finished page again. The last
 * page is read again by the next run when it was not full: issues opened since land on it. A failed
 * request throws (the caller reports it); what was indexed before it stays.
 */
export async function backfill(
  github: GitHub,
  store: Store,
  repository: string,
  { restart, onPage }: { restart: boolean; onPage: (progress: BackfillProgress) => void },
): Promise<BackfillResult> {
  const [owner, repo] = repository.split('/') as [string, string];
  const saved = restart ? undefined : await store.similar.backfillState(repository);
  let state: Omit<BackfillState, 'updated_at'> = saved ?? { repository, next_page: 1, indexed: 0, finished_at: null };
  if (restart) await store.similar.saveBackfillState(state);
  const result: BackfillResult = {
    repository,
    pages: 0,
    read: 0,
    indexed: state.indexed,
    next_page: state.next_page,
    done: false,
  };
  for (;;) {
    const page = state.next_page;
    const { data, headers } = await github.rest.issues.listForRepo({
      owner,
      repo,
      state: 'all',
      sort: 'created',
      direction: 'asc',
      per_page: BACKFILL_PAGE_SIZE,
      page,
    });
    const threads = data.flatMap((item) => indexedThread(repository, item) ?? []) as IndexedThread[];
    const last = !/\brel="next"/.test(headers.link ?? '');
    const full = data.length >= BACKFILL_PAGE_SIZE;
    state = {
      repository,
      // A page that was not full is read again next time: issues opened since are added to it.
      next_page: full ? page + 1 : page,
      // Every earlier page was full.
      indexed: (page - 1) * BACKFILL_PAGE_SIZE + data.length,
      finished_at: last ? store.clock() : null,
    };
    await store.similar.indexThreads(threads, state);
    result.pages++;
    result.read += threads.length;
    result.indexed = state.indexed;
    result.next_page = state.next_page;
    onPage({ repository, page, threads: threads.length, indexed: state.indexed });
    if (last) break;
  }
  result.done = true;
  return result;
}
