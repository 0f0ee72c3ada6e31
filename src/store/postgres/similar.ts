import { parseAssessment, threadKeys, type AnalysisRow } from '../../similar/assessment.js';
import { byRepository, planIndexing, type IndexedVersion } from '../../similar/index-plan.js';
import { searchSimilar, type Candidate, type SimilarIndex } from '../../similar/search.js';
import type { SimilarStore } from '../store.js';
import type { BackfillState, IndexedThread } from '../types.js';
import type { Db, Sql } from './connect.js';
import { lockForTransaction } from './locks.js';
import { texts } from './queue.js';

/** The related-issue index in PostgreSQL: a GIN-indexed tsvector of the terms hls cut, the shared scorer on top. */
export function postgresSimilar(sql: Sql): SimilarStore {
  const indexThreads = (threads: IndexedThread[], backfill?: Omit<BackfillState, 'updated_at'>): Promise<number> =>
    sql.begin(async (tx) => {
      let written = 0;
      for (const [repository, group] of byRepository(threads)) written += await writeThreads(tx, repository, group);
      if (backfill) await saveBackfillState(tx, backfill);
      return written;
    });
  const index = fullTextIndex(sql);
  return {
    indexThread: async (thread) => void (await indexThreads([thread])),
    indexThreads,
    search: (query) => searchSimilar(index, query),

    async assessments(repository, numbers) {
      if (numbers.length === 0) return [];
      const rows = await sql<AnalysisRow[]>`
        SELECT e.thread_key, a.analysis_json, a.created_at FROM claude_analyses a
          JOIN webhook_events e ON e.id = a.webhook_id
         WHERE a.id IN (
           SELECT max(a2.id) FROM webhook_events e2 JOIN claude_analyses a2 ON a2.webhook_id = e2.id
            WHERE e2.thread_key IN ${texts(sql, threadKeys(repository, numbers))} AND a2.outcome = 'ok'
              AND a2.analysis_json IS NOT NULL
            GROUP BY e2.thread_key)`;
      return rows.flatMap((row) => parseAssessment(row) ?? []).sort((a, b) => a.number - b.number);
    },

    async indexedCount(repository) {
      const [row] = await sql<{ n: number }[]>`
        SELECT coalesce(sum(threads), 0)::bigint AS n FROM similar_corpus
         WHERE ${repository ?? null}::text IS NULL OR repository = ${repository ?? null}`;
      return row!.n;
    },

    async backfillState(repository) {
      const [row] = await sql<BackfillState[]>`
        SELECT repository, next_page, indexed, finished_at, updated_at FROM similar_backfill
         WHERE repository = ${repository}`;
      return row;
    },

    saveBackfillState: (state) => saveBackfillState(sql, state),
  };
}

/**
 * One repository's threads, under that repository's lock: its term counts are read, changed and written
 * by one process at a time, and two processes indexing the same thread cannot both insert it.
 */
async function writeThreads(tx: Db, repository: string, threads: IndexedThread[]): Promise<number> {
  await lockForTransaction(tx, 'similarIndex', repository);
  const stored = await tx<IndexedVersion[]>`
    SELECT number, updated_at, title_terms, body_terms FROM similar_threads
     WHERE repository = ${repository} AND number IN (SELECT value::integer FROM jsonb_array_elements_text(
       ${JSON.stringify(threads.map((t) => t.number))}::text::jsonb) AS value)`;
  const plan = planIndexing(threads, new Map(stored.map((row) => [row.number, row])));
  if (plan.rows.length === 0) return 0;
  const [clock] = await tx<{ now: number }[]>`SELECT hls_now_ms() AS now`;
  const rows = plan.rows.map((row) => ({
    repository,
    number: row.number,
    kind: row.kind,
    title: row.title,
    body: row.body,
    repository_key: row.repository_key,
    title_terms: row.title_terms,
    body_terms: row.body_terms,
    state: row.state,
    url: row.url,
    updated_at: row.updated_at,
    indexed_at: clock!.now,
  }));
  await tx`
    INSERT INTO similar_threads ${tx(rows)}
    ON CONFLICT (repository, number) DO UPDATE SET kind = excluded.kind, title = excluded.title,
      body = excluded.body, title_terms = excluded.title_terms, body_terms = excluded.body_terms,
      state = excluded.state, url = excluded.url, updated_at = excluded.updated_at, indexed_at = excluded.indexed_at`;
  if (plan.termChanges.length > 0) {
    await tx`
      INSERT INTO similar_terms (repository, term, threads)
      SELECT ${repository}, key, value::integer FROM jsonb_each_text(${JSON.stringify(Object.fromEntries(plan.termChanges))}::text::jsonb)
      ON CONFLICT (repository, term) DO UPDATE SET threads = similar_terms.threads + excluded.threads`;
  }
  await tx`
    INSERT INTO similar_corpus (repository, threads, terms) VALUES (${repository}, ${plan.threadsAdded}, ${plan.termsAdded})
    ON CONFLICT (repository) DO UPDATE SET threads = similar_corpus.threads + excluded.threads,
      terms = similar_corpus.terms + excluded.terms`;
  return plan.rows.length;
}

async function saveBackfillState(db: Db, state: Omit<BackfillState, 'updated_at'>): Promise<void> {
  await db`
    INSERT INTO similar_backfill (repository, next_page, indexed, finished_at, updated_at)
    VALUES (${state.repository}, ${state.next_page}, ${state.indexed}, ${state.finished_at}, hls_now_ms())
    ON CONFLICT (repository) DO UPDATE SET next_page = excluded.next_page, indexed = excluded.indexed,
      finished_at = excluded.finished_at, updated_at = excluded.updated_at`;
}

function fullTextIndex(sql: Sql): SimilarIndex {
  return {
    async corpus(repository) {
      const [row] = await sql<{ threads: number; terms: number }[]>`
        SELECT threads, terms FROM similar_corpus WHERE repository = ${repository}`;
      return row ?? { threads: 0, terms: 0 };
    },

    async holding(repository, terms) {
      const rows = await sql<{ term: string; threads: number }[]>`
        SELECT term, threads FROM similar_terms
         WHERE repository = ${repository} AND threads > 0 AND term IN ${texts(sql, terms)}`;
      return new Map(rows.map((row) => [row.term, row.threads]));
    },

    async candidates(repository, terms, exclude, limit) {
      const weights = JSON.stringify(Object.fromEntries(terms.map(({ term, weight }) => [term, weight])));
      // Planned for these values each time (an unnamed statement): the generic plan a named one gets
      // after five runs, made for no repository in particular, reads the whole table (a seq scan each
      // search at 100k threads) where this repository's postings lead to a few thousand rows.
      return sql.unsafe<Candidate[]>(CANDIDATES_SQL, [weights, repository, exclude, limit]);
    },
  };
}

/**
 * $1 the terms' weights (JSON, term → weight), $2 the repository, $3 the number left out, $4 the limit.
 * Terms are ASCII letters and digits (src/similar/terms.ts): none is a tsquery operator. The repository is
 * a filter on the rows a term's postings lead to (each is read anyway): a GIN intersection with a
 * repository word would read one posting per thread of the repository for every term.
 */
const CANDIDATES_SQL = `
  WITH found AS (
    SELECT t.id, sum(q.weight) AS weight
      FROM (SELECT key AS term, value::float8 AS weight FROM jsonb_each_text($1::text::jsonb)) AS q
     CROSS JOIN LATERAL (
       SELECT id FROM similar_threads
        WHERE search @@ q.term::tsquery AND repository = $2 AND number IS DISTINCT FROM $3::integer) AS t
     GROUP BY t.id
     ORDER BY weight DESC, t.id DESC LIMIT $4)
  SELECT number, kind, title, body, state, url, title_terms, body_terms FROM found JOIN similar_threads USING (id)`;
