import { byRepository, planIndexing, type IndexedVersion } from '../../similar/index-plan.js';
import { heaviest, searchSimilar, type Candidate, type SimilarIndex } from '../../similar/search.js';
import { repositoryKey } from '../../similar/terms.js';
import { parseAssessment, threadKeys } from '../../similar/assessment.js';
import type { SimilarStore } from '../store.js';
import type { BackfillState, IndexedThread, ThreadAssessment } from '../types.js';
import type { Db } from './open.js';
import { statement } from './statements.js';

/** The related-issue index in SQLite: FTS5 over the terms hls cut, the shared scorer on top. */
export function sqliteSimilar(db: Db, now: () => number): SimilarStore {
  const index = fullTextIndex(db);
  const indexThreads = db.transaction(
    (threads: readonly IndexedThread[], backfill?: Omit<BackfillState, 'updated_at'>): number => {
      const written = writeThreads(db, threads, now());
      if (backfill) saveBackfillState(db, backfill, now());
      return written;
    },
  );
  return {
    // IMMEDIATE: the term counts are read then written; another process's writer waits its turn (busy timeout).
    indexThread: async (thread) => void indexThreads.immediate([thread]),
    indexThreads: async (threads, backfill) => indexThreads.immediate(threads, backfill),
    search: async (query) => searchSimilar(index, query),
    assessments: async (repository, numbers) => assessments(db, repository, numbers),
    indexedCount: async (repository) =>
      (
        statement(
          db,
          `SELECT coalesce(sum(threads), 0) AS n FROM similar_corpus WHERE @repository IS NULL OR repository = @repository`,
        ).get({ repository: repository ?? null }) as { n: number }
      ).n,
    backfillState: async (repository) =>
      statement(
        db,
        `SELECT repository, next_page, indexed, finished_at, updated_at FROM similar_backfill WHERE repository = ?`,
      ).get(repository) as BackfillState | undefined,
    saveBackfillState: async (state) => saveBackfillState(db, state, now()),
  };
}

function writeThreads(db: Db, threads: readonly IndexedThread[], at: number): number {
  let written = 0;
  for (const [repository, group] of byRepository(threads)) written += writeRepositoryThreads(db, repository, group, at);
  return written;
}

function writeRepositoryThreads(db: Db, repository: string, threads: IndexedThread[], at: number): number {
  const indexed = new Map<number, IndexedVersion>();
  const find = statement(
    db,
    `SELECT number, updated_at, title_terms, body_terms FROM similar_threads WHERE repository = ? AND number = ?`,
  );
  for (const thread of threads) {
    const row = find.get(repository, thread.number) as IndexedVersion | undefined;
    if (row) indexed.set(row.number, row);
  }
  const plan = planIndexing(threads, indexed);
  const upsert = statement(
    db,
    `INSERT INTO similar_threads (repository, number, kind, title, body, repository_key, title_terms, body_terms,
       state, url, updated_at, indexed_at)
     VALUES (@repository, @number, @kind, @title, @body, @repository_key, @title_terms, @body_terms, @state, @url,
       @updated_at, @at)
     ON CONFLICT (repository, number) DO UPDATE SET kind = excluded.kind, title = excluded.title,
       body = excluded.body, title_terms = excluded.title_terms, body_terms = excluded.body_terms,
       state = excluded.state, url = excluded.url, updated_at = excluded.updated_at, indexed_at = excluded.indexed_at`,
  );
  for (const row of plan.rows) upsert.run({ ...row, at });
  const count = statement(
    db,
    `INSERT INTO similar_terms (repository, term, threads) VALUES (?, ?, ?)
     ON CONFLICT (repository, term) DO UPDATE SET threads = threads + excluded.threads`,
  );
  for (const [term, by] of plan.termChanges) count.run(repository, term, by);
  statement(
    db,
    `INSERT INTO similar_corpus (repository, threads, terms) VALUES (?, ?, ?)
     ON CONFLICT (repository) DO UPDATE SET threads = threads + excluded.threads, terms = terms + excluded.terms`,
  ).run(repository, plan.threadsAdded, plan.termsAdded);
  return plan.rows.length;
}

function saveBackfillState(db: Db, state: Omit<BackfillState, 'updated_at'>, at: number): void {
  statement(
    db,
    `INSERT INTO similar_backfill (repository, next_page, indexed, finished_at, updated_at)
     VALUES (@repository, @next_page, @indexed, @finished_at, @at)
     ON CONFLICT (repository) DO UPDATE SET next_page = excluded.next_page, indexed = excluded.indexed,
       finished_at = excluded.finished_at, updated_at = excluded.updated_at`,
  ).run({ ...state, at });
}

function fullTextIndex(db: Db): SimilarIndex {
  return {
    async corpus(repository) {
      const row = statement(db, `SELECT threads, terms FROM similar_corpus WHERE repository = ?`).get(repository) as
        { threads: number; terms: number } | undefined;
      return row ?? { threads: 0, terms: 0 };
    },
    async holding(repository, terms) {
      const holding = new Map<string, number>();
      const find = statement(db, `SELECT threads FROM similar_terms WHERE repository = ? AND term = ?`);
      for (const term of terms) {
        const row = find.get(repository, term) as { threads: number } | undefined;
        if (row && row.threads > 0) holding.set(term, row.threads);
      }
      return holding;
    },
    async candidates(repository, terms, exclude, limit) {
      // Terms and keys are ASCII letters and digits (src/similar/terms.ts): quoted, none is an FTS5 operator.
      const key = repositoryKey(repository);
      const holding = statement(db, `SELECT rowid FROM similar_threads_fts WHERE similar_threads_fts MATCH ?`).pluck();
      const excluded =
        exclude === null
          ? undefined
          : (statement(db, `SELECT id FROM similar_threads WHERE repository = ? AND number = ?`)
              .pluck()
              .get(repository, exclude) as number | undefined);
      const found: [number, number][] = [];
      for (const { term, weight } of terms) {
        for (const id of holding.all(`"${key}" AND "${term}"`) as number[])
          if (id !== excluded) found.push([id, weight]);
      }
      const ids = heaviest(found, limit);
      return statement(
        db,
        `SELECT number, kind, title, body, state, url, title_terms, body_terms FROM similar_threads
          WHERE id IN (SELECT value FROM json_each(?))`,
      ).all(JSON.stringify(ids)) as Candidate[];
    },
  };
}

function assessments(db: Db, repository: string, numbers: number[]): ThreadAssessment[] {
  if (numbers.length === 0) return [];
  const keys = JSON.stringify(threadKeys(repository, numbers));
  const rows = statement(
    db,
    `SELECT e.thread_key, a.analysis_json, a.created_at FROM claude_analyses a
       JOIN webhook_events e ON e.id = a.webhook_id
      WHERE a.id IN (
        SELECT max(a2.id) FROM webhook_events e2 JOIN claude_analyses a2 ON a2.webhook_id = e2.id
         WHERE e2.thread_key IN (SELECT value FROM json_each(?)) AND a2.outcome = 'ok'
           AND a2.analysis_json IS NOT NULL
         GROUP BY e2.thread_key)`,
  ).all(keys) as { thread_key: string; analysis_json: string; created_at: number }[];
  return rows.flatMap((row) => parseAssessment(row) ?? []).sort((a, b) => a.number - b.number);
}
