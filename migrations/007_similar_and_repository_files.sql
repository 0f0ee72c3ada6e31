-- Version 7: the index of issues and pull requests for related-issue search, the backfill progress of
-- `hls similar index`, what each analysis was offered, and the cache of each repository's .github/hls.yml.

-- One row per issue or pull request hls has seen (from an event or a backfill), the newest version of it.
CREATE TABLE similar_threads (
  id          INTEGER PRIMARY KEY,                 -- the full-text index's rowid (stable across VACUUM)
  repository  TEXT    NOT NULL,                    -- owner/repo
  number      INTEGER NOT NULL,
  kind        TEXT    NOT NULL,                    -- issue | pull_request
  title       TEXT    NOT NULL,
  body        TEXT    NOT NULL,                    -- the start of the body (capped when indexed)
  repository_key TEXT NOT NULL,                    -- one word that stands for the repository in the full-text index
  title_terms TEXT    NOT NULL,                    -- the terms hls cut the title into (src/similar/terms.ts), space-separated
  body_terms  TEXT    NOT NULL,                    -- the body's terms
  state       TEXT    NOT NULL,                    -- open | closed
  url         TEXT,
  updated_at  INTEGER NOT NULL,                    -- GitHub's updated_at (epoch ms): an older version never replaces a newer
  indexed_at  INTEGER NOT NULL,
  UNIQUE (repository, number)
);

-- Full text of the terms, kept in step with similar_threads by the triggers below. The terms are plain
-- ASCII words already stemmed by hls, so both backends index the same words; a search asks for the
-- threads holding the repository's key and a term, one term at a time (no ranking in the index).
CREATE VIRTUAL TABLE similar_threads_fts USING fts5(
  repository_key, title_terms, body_terms,
  content = 'similar_threads', content_rowid = 'id',
  tokenize = 'unicode61', detail = 'none'
);
CREATE TRIGGER similar_threads_ai AFTER INSERT ON similar_threads BEGIN
  INSERT INTO similar_threads_fts (rowid, repository_key, title_terms, body_terms)
  VALUES (new.id, new.repository_key, new.title_terms, new.body_terms);
END;
CREATE TRIGGER similar_threads_ad AFTER DELETE ON similar_threads BEGIN
  INSERT INTO similar_threads_fts (similar_threads_fts, rowid, repository_key, title_terms, body_terms)
  VALUES ('delete', old.id, old.repository_key, old.title_terms, old.body_terms);
END;
CREATE TRIGGER similar_threads_au AFTER UPDATE ON similar_threads BEGIN
  INSERT INTO similar_threads_fts (similar_threads_fts, rowid, repository_key, title_terms, body_terms)
  VALUES ('delete', old.id, old.repository_key, old.title_terms, old.body_terms);
  INSERT INTO similar_threads_fts (rowid, repository_key, title_terms, body_terms)
  VALUES (new.id, new.repository_key, new.title_terms, new.body_terms);
END;

-- How many threads of a repository hold each term (the search weighs rare terms more), and the
-- repository's totals; kept in step by the store with each thread it indexes.
CREATE TABLE similar_terms (
  repository  TEXT    NOT NULL,
  term        TEXT    NOT NULL,
  threads     INTEGER NOT NULL,
  PRIMARY KEY (repository, term)
);
CREATE TABLE similar_corpus (
  repository  TEXT    PRIMARY KEY,
  threads     INTEGER NOT NULL,                    -- indexed threads
  terms       INTEGER NOT NULL                     -- their lengths in terms summed (title terms counted twice)
);

-- `hls similar index --repo R`: where the backfill of a repository's existing issues stopped.
CREATE TABLE similar_backfill (
  repository   TEXT    PRIMARY KEY,
  next_page    INTEGER NOT NULL,                   -- the next page of the issues list to read
  indexed      INTEGER NOT NULL DEFAULT 0,         -- issues and pull requests indexed so far
  finished_at  INTEGER,                            -- set when the last page was read
  updated_at   INTEGER NOT NULL
);

-- The related threads offered to the model for this analysis: JSON [{number, score}], best first.
ALTER TABLE claude_analyses ADD COLUMN similar_offered TEXT;

-- A repository's settings file as last read from its default branch, kept for conditional requests.
CREATE TABLE repository_files (
  repository  TEXT    NOT NULL,
  path        TEXT    NOT NULL,                    -- .github/hls.yml
  etag        TEXT,                                -- of the contents API answer; null when the file is absent
  sha         TEXT,                                -- the blob's sha: one warning per version of an invalid file
  content     TEXT,                                -- null when the file does not exist
  fetched_at  INTEGER NOT NULL,                    -- the last time GitHub was asked (a 304 included)
  warned_sha  TEXT,                                -- the version an invalid-file warning was logged for
  PRIMARY KEY (repository, path)
);

PRAGMA user_version = 7;
