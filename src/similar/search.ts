import type { SimilarMatch, SimilarQuery } from '../store/types.js';
import { CANDIDATES, scoreThread, searchTerms, weighQuery, type CorpusStats, type WeightedTerm } from './score.js';
import { QUERY_CHARS, termCounts, textTerms, type ThreadTerms } from './terms.js';

/** A candidate as the full-text search returns it, before it is scored. */
export type Candidate = Omit<SimilarMatch, 'score'> & ThreadTerms;

/** The three reads a search needs of a backend's index. */
export interface SimilarIndex {
  corpus(repository: string): Promise<CorpusStats>;
  /** How many of the repository's threads hold each of `terms` (absent: none). */
  holding(repository: string, terms: string[]): Promise<Map<string, number>>;
  /**
   * Up to `limit` of the repository's threads holding any of `terms` (ASCII words, each asked of the
   * full-text index on its own), by the summed weight of the terms each holds, then newest indexed first.
   */
  candidates(repository: string, terms: WeightedTerm[], exclude: number | null, limit: number): Promise<Candidate[]>;
}

/** A search on either backend: the full-text candidates rescored by the shared scorer, best first. */
export async function searchSimilar(index: SimilarIndex, query: SimilarQuery): Promise<SimilarMatch[]> {
  const counts = termCounts(textTerms(query.text.slice(0, QUERY_CHARS)));
  if (counts.size === 0 || query.limit <= 0) return [];
  const corpus = await index.corpus(query.repository);
  if (corpus.threads === 0) return [];
  const weighted = weighQuery(counts, await index.holding(query.repository, [...counts.keys()]), corpus);
  const terms = searchTerms(weighted);
  if (terms.length === 0) return [];
  const candidates = await index.candidates(query.repository, terms, query.exclude ?? null, CANDIDATES);
  return candidates
    .map(({ title_terms, body_terms, ...match }) => ({
      ...match,
      score: scoreThread(weighted, { title_terms, body_terms }, corpus),
    }))
    .sort((a, b) => b.score - a.score || b.number - a.number)
    .slice(0, query.limit);
}

/** The `limit` heaviest of the ids (summed weights of the terms each was found by), then the highest ids. */
export function heaviest(found: Iterable<[id: number, weight: number]>, limit: number): number[] {
  const sums = new Map<number, number>();
  for (const [id, weight] of found) sums.set(id, (sums.get(id) ?? 0) + weight);
  return [...sums]
    .sort((a, b) => b[1] - a[1] || b[0] - a[0])
    .slice(0, limit)
    .map(([id]) => id);
}
