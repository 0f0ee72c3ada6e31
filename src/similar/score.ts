import { splitTerms, termCounts, type ThreadTerms } from './terms.js';

/**
 * The score of a candidate, computed here for both backends so that `similar.min_score` means the same
 * on each: the share of the query's information the candidate holds, in [0, 1]. Each query term weighs
 * its inverse document frequency in the repository (a term few threads use tells more) times
 * 1 + ln(its count in the query); the candidate holds a term fully when it occurs there at a BM25-like
 * saturation — once in a thread of average length, more often in a longer one; title terms count twice.
 */

/** What the search needs to know of a repository's indexed threads. */
export interface CorpusStats {
  threads: number;
  /** The sum of the threads' lengths in terms (title terms counted twice). */
  terms: number;
}

/** A query's terms with their weights and how many threads hold each, heaviest first. */
export interface WeightedTerm {
  term: string;
  weight: number;
  threads: number;
}

/** A title term counts this many times a body term does. */
export const TITLE_WEIGHT = 2;
/** The query terms a score considers: the heaviest ones. */
export const MAX_QUERY_TERMS = 48;
/** The full-text search for candidates uses at most this many terms, the rarest first... */
export const MAX_SEARCH_TERMS = 32;
/** ...and stops adding terms once the threads they reach together pass this (a bound on its work). */
export const SEARCH_POSTINGS = 1200;
/** ...but always uses at least this many (when the query has them). */
const MIN_SEARCH_TERMS = 2;
/** Candidates the full-text search returns for scoring. */
export const CANDIDATES = 50;

const K1 = 1.2;
const B = 0.75;

export function inverseDocumentFrequency(threads: number, holding: number): number {
  const held = Math.min(holding, threads);
  return Math.log(1 + (threads - held + 0.5) / (held + 0.5));
}

/** The query's heaviest terms, given each term's count in the query and how many threads hold it. */
export function weighQuery(
  counts: ReadonlyMap<string, number>,
  holding: ReadonlyMap<string, number>,
  corpus: CorpusStats,
): WeightedTerm[] {
  const weighted = [...counts].map(([term, count]) => {
    const threads = holding.get(term) ?? 0;
    return { term, threads, weight: (1 + Math.log(count)) * inverseDocumentFrequency(corpus.threads, threads) };
  });
  weighted.sort((a, b) => b.weight - a.weight || (a.term < b.term ? -1 : 1));
  return weighted.slice(0, MAX_QUERY_TERMS);
}

/**
 * The terms the full-text search looks for: held by some thread, rarest first, until the threads they
 * reach together pass the work bound.
 */
export function searchTerms(query: readonly WeightedTerm[]): WeightedTerm[] {
  const held = query.filter((t) => t.threads > 0).sort((a, b) => a.threads - b.threads || (a.term < b.term ? -1 : 1));
  const chosen: WeightedTerm[] = [];
  let postings = 0;
  for (const term of held) {
    if (chosen.length >= MAX_SEARCH_TERMS) break;
    if (chosen.length >= MIN_SEARCH_TERMS && postings + term.threads > SEARCH_POSTINGS) break;
    chosen.push(term);
    postings += term.threads;
  }
  return chosen;
}

/** The candidate's score in [0, 1]. */
export function scoreThread(query: readonly WeightedTerm[], thread: ThreadTerms, corpus: CorpusStats): number {
  const title = splitTerms(thread.title_terms);
  const body = splitTerms(thread.body_terms);
  const length = TITLE_WEIGHT * title.length + body.length;
  const averageLength = corpus.threads > 0 && corpus.terms > 0 ? corpus.terms / corpus.threads : length || 1;
  const norm = K1 * (1 - B + (B * length) / averageLength);
  const titleCounts = termCounts(title);
  const bodyCounts = termCounts(body);
  let held = 0;
  let total = 0;
  for (const { term, weight } of query) {
    total += weight;
    const frequency = TITLE_WEIGHT * (titleCounts.get(term) ?? 0) + (bodyCounts.get(term) ?? 0);
    if (frequency > 0) held += weight * Math.min(1, (frequency * (K1 + 1)) / (frequency + norm));
  }
  return total > 0 ? held / total : 0;
}

/** A thread's length as CorpusStats counts it. */
export function threadLength(thread: ThreadTerms): number {
  return TITLE_WEIGHT * splitTerms(thread.title_terms).length + splitTerms(thread.body_terms).length;
}
