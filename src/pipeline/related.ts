import type { LoadedConfig } from '../config/load.js';
import type { Store } from '../store/store.js';
import { SIMILAR_BODY_CHARS, type SimilarMatch, type ThreadAssessment } from '../store/types.js';
import type { Triage } from './analysis.js';
import type { Subject } from './filter.js';

/** A thread offered to the model as possibly related, with hls's earlier assessment of it if any. */
export interface RelatedCandidate extends SimilarMatch {
  assessment: ThreadAssessment | null;
}

/** What the ledger keeps of an offer (claude_analyses.similar_offered): numbers and scores, best first. */
export interface OfferedThread {
  number: number;
  score: number;
}

/** Characters of a candidate's body shown in the prompt. */
export const RELATED_BODY_CHARS = 400;

/** Keeps the newest version of the event's issue or pull request in the repository's index. */
export async function indexSubject(
  store: Store,
  config: LoadedConfig,
  repository: string,
  subject: Subject,
  indexedAt: number,
): Promise<void> {
  if (!config.similar.enabled || subject.kind === 'release') return;
  await store.similar.indexThread({
    repository,
    number: subject.number,
    kind: subject.kind === 'pull request' ? 'pull_request' : 'issue',
    title: subject.title,
    body: subject.body.slice(0, SIMILAR_BODY_CHARS),
    state: subject.state,
    url: subject.url || null,
    updated_at: subject.updatedAt ?? indexedAt,
  });
}

/** The repository's threads most like the subject, above similar.min_score, at most similar.max. */
export async function relatedCandidates(
  store: Store,
  config: LoadedConfig,
  repository: string,
  subject: Subject,
): Promise<RelatedCandidate[]> {
  const { enabled, max, min_score } = config.similar;
  if (!enabled || max === 0) return [];
  const matches = (
    await store.similar.search({
      repository,
      text: `${subject.title}\n${subject.body.slice(0, SIMILAR_BODY_CHARS)}`,
      limit: max,
      exclude: subject.number,
    })
  ).filter((match) => match.score >= min_score);
  if (matches.length === 0) return [];
  const assessments = new Map(
    (
      await store.similar.assessments(
        repository,
        matches.map((match) => match.number),
      )
    ).map((assessment) => [assessment.number, assessment]),
  );
  return matches.map((match) => ({
    ...match,
    body: match.body.slice(0, RELATED_BODY_CHARS),
    assessment: assessments.get(match.number) ?? null,
  }));
}

export function offeredThreads(candidates: readonly RelatedCandidate[]): OfferedThread[] {
  return candidates.map(({ number, score }) => ({ number, score: Math.round(score * 1000) / 1000 }));
}

/**
 * The model may only name threads it was offered: any other number (invented, or the thread itself)
 * is dropped from `related`, and `duplicate_of` is kept only if it is one of them.
 */
export function keepOffered(triage: Triage, offered: readonly number[]): { triage: Triage; dropped: number[] } {
  const allowed = new Set(offered);
  const related = [...new Set(triage.related)].filter((number) => allowed.has(number));
  const duplicateOf = triage.duplicate_of !== null && allowed.has(triage.duplicate_of) ? triage.duplicate_of : null;
  const dropped = [
    ...new Set([...triage.related, ...(triage.duplicate_of === null ? [] : [triage.duplicate_of])]),
  ].filter((number) => !allowed.has(number));
  // A duplicate is related by definition: listed first among the related threads.
  const withDuplicate = duplicateOf === null ? related : [duplicateOf, ...related.filter((n) => n !== duplicateOf)];
  return { triage: { ...triage, related: withDuplicate, duplicate_of: duplicateOf }, dropped };
}

/** Whether the analysis marks the thread as a duplicate firmly enough for labels.duplicate. */
export function firmDuplicate(triage: Triage, config: LoadedConfig): boolean {
  return triage.duplicate_of !== null && triage.confidence >= config.similar.duplicate_confidence;
}
