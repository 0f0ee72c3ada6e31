import { SIMILAR_BODY_CHARS, type IndexedThread } from '../store/types.js';
import { threadLength } from './score.js';
import { repositoryKey, splitTerms, threadTerms, type ThreadTerms } from './terms.js';

/** A thread as the index stores it: its body capped, its terms cut. */
export type StoredThread = IndexedThread & ThreadTerms & { repository_key: string };

/** The indexed version of a thread, as far as replacing it needs. */
export interface IndexedVersion extends ThreadTerms {
  number: number;
  updated_at: number;
}

/** What indexing a batch of threads changes, computed the same way for both backends. */
export interface IndexPlan {
  /** Threads to insert, or to write over their older indexed version. */
  rows: StoredThread[];
  /** How many more (or fewer) threads hold each term, in term order (the order rows are locked in). */
  termChanges: [string, number][];
  /** New threads in the repository. */
  threadsAdded: number;
  /** The change to the repository's summed thread lengths. */
  termsAdded: number;
}

/**
 * The batch's threads that are new or newer than their indexed version (`indexed`, by number): a thread
 * named twice counts in its newest version, an older or equal version than the indexed one is left out.
 */
export function planIndexing(
  threads: readonly IndexedThread[],
  indexed: ReadonlyMap<number, IndexedVersion>,
): IndexPlan {
  const newest = new Map<number, IndexedThread>();
  for (const thread of threads) {
    const seen = newest.get(thread.number) ?? indexed.get(thread.number);
    if (!seen || thread.updated_at > seen.updated_at) newest.set(thread.number, thread);
  }
  const changes = new Map<string, number>();
  const change = (terms: ThreadTerms, by: number): void => {
    for (const term of new Set([...splitTerms(terms.title_terms), ...splitTerms(terms.body_terms)]))
      changes.set(term, (changes.get(term) ?? 0) + by);
  };
  const plan: IndexPlan = { rows: [], termChanges: [], threadsAdded: 0, termsAdded: 0 };
  for (const thread of newest.values()) {
    const body = capped(thread.body);
    const row: StoredThread = {
      ...thread,
      body,
      repository_key: repositoryKey(thread.repository),
      ...threadTerms(thread.title, body),
    };
    const previous = indexed.get(thread.number);
    if (previous) {
      change(previous, -1);
      plan.termsAdded -= threadLength(previous);
    } else {
      plan.threadsAdded++;
    }
    change(row, +1);
    plan.termsAdded += threadLength(row);
    plan.rows.push(row);
  }
  plan.termChanges = [...changes].filter(([, by]) => by !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return plan;
}

/** The threads of a batch by repository (each repository's counts change on their own). */
export function byRepository(threads: readonly IndexedThread[]): Map<string, IndexedThread[]> {
  const groups = new Map<string, IndexedThread[]>();
  for (const thread of threads) groups.set(thread.repository, [...(groups.get(thread.repository) ?? []), thread]);
  return groups;
}

/** The start of a body, without cutting a character in two. */
function capped(body: string): string {
  if (body.length <= SIMILAR_BODY_CHARS) return body;
  const end = /[\uD800-\uDBFF]/.test(body[SIMILAR_BODY_CHARS - 1]!) ? SIMILAR_BODY_CHARS - 1 : SIMILAR_BODY_CHARS;
  return body.slice(0, end);
}
