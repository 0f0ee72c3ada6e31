-- Version 2: what the analysis pipeline keeps between events and between worker processes.

-- Outcome of each model call: ok, refusal, max_tokens, invalid (output failed validation),
-- not_sent (no API key: the rendered prompt is recorded, nothing was paid).
ALTER TABLE claude_analyses ADD COLUMN outcome TEXT NOT NULL DEFAULT 'ok';
-- The validated analysis (priority, difficulty, component, labels, comment, confidence) as JSON.
ALTER TABLE claude_analyses ADD COLUMN analysis_json TEXT;
-- webhook_events.replay_count when the call was made: a checkpoint only resumes within one replay.
ALTER TABLE claude_analyses ADD COLUMN replay_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE claude_analyses ADD COLUMN request_id TEXT;

-- Spend reserved before each model call and settled to the real cost after it. All worker processes
-- reserve inside one IMMEDIATE transaction, so together they never exceed a budget.
CREATE TABLE budget_reservations (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id      INTEGER NOT NULL REFERENCES webhook_events (id),
  day           TEXT    NOT NULL,                  -- UTC date the spend counts against
  repository    TEXT,
  reserved_usd  REAL    NOT NULL,
  actual_usd    REAL,
  state         TEXT    NOT NULL CHECK (state IN ('reserved', 'settled', 'released')),
  created_at    INTEGER NOT NULL,
  settled_at    INTEGER
);
CREATE INDEX budget_reservations_day ON budget_reservations (day, repository);

-- The one comment hls keeps per thread, updated in place.
CREATE TABLE thread_comments (
  thread_key  TEXT PRIMARY KEY,                    -- owner/repo#number
  comment_id  INTEGER NOT NULL,
  html_url    TEXT,
  updated_at  INTEGER NOT NULL
);

-- Each repository's labels, so the label policy need not list them on every event.
CREATE TABLE label_cache (
  repository   TEXT PRIMARY KEY,
  labels_json  TEXT    NOT NULL,                   -- [{name, color, description}]
  fetched_at   INTEGER NOT NULL
);

-- The login behind a token (keyed by sha256 of the token, never the token), learned once.
CREATE TABLE token_identity (
  token_sha256 TEXT PRIMARY KEY,
  login        TEXT    NOT NULL,
  fetched_at   INTEGER NOT NULL
);

-- Events deleted by `hls prune`, counted per day and final status, so that daily totals stay exact.
CREATE TABLE pruned_events (
  date    TEXT    NOT NULL,                        -- UTC day the events arrived
  status  TEXT    NOT NULL,
  events  INTEGER NOT NULL,
  PRIMARY KEY (date, status)
);

-- Per-day (UTC) totals, computed from the rows (and the counts of pruned ones) so that they are
-- always exact. Prompts recorded without being sent (no API key) are not counted as analyses.
CREATE VIEW daily_stats AS
WITH arrivals AS (
  SELECT date(created_at / 1000, 'unixepoch') AS date, status, 1 AS events FROM webhook_events
  UNION ALL
  SELECT date, status, events FROM pruned_events
), events AS (
  SELECT date,
         sum(events) AS total_webhooks,
         sum((status = 'completed') * events) AS completed,
         sum((status = 'failed') * events) AS failed,
         sum((status = 'skipped') * events) AS skipped
  FROM arrivals GROUP BY 1
), analyses AS (
  SELECT date(created_at / 1000, 'unixepoch') AS date,
         sum(outcome != 'not_sent') AS claude_analyses,
         sum(github_actions_json IS NOT NULL AND github_actions_json NOT IN ('', '[]', '{}')) AS github_actions,
         sum(claude_tokens_used) AS tokens,
         sum(claude_cost_usd) AS total_cost_usd
  FROM claude_analyses GROUP BY 1
), days AS (
  SELECT date FROM events UNION SELECT date FROM analyses
)
SELECT days.date,
       coalesce(events.total_webhooks, 0) AS total_webhooks,
       coalesce(events.completed, 0) AS completed,
       coalesce(events.failed, 0) AS failed,
       coalesce(events.skipped, 0) AS skipped,
       coalesce(analyses.claude_analyses, 0) AS claude_analyses,
       coalesce(analyses.github_actions, 0) AS github_actions,
       coalesce(analyses.tokens, 0) AS tokens,
       coalesce(analyses.total_cost_usd, 0.0) AS total_cost_usd
FROM days
LEFT JOIN events USING (date)
LEFT JOIN analyses USING (date);

PRAGMA user_version = 2;
