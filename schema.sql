-- hls schema, version 1 (PRAGMA user_version).
-- A new database gets this file, then migrations/NNN_*.sql in order (each sets user_version = NNN).
-- All times are Unix epoch milliseconds (UTC).

CREATE TABLE webhook_events (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id     TEXT    NOT NULL UNIQUE,           -- X-GitHub-Delivery; redeliveries keep it
  event_type      TEXT    NOT NULL,                  -- X-GitHub-Event
  action          TEXT,
  repository      TEXT,                              -- owner/repo, NULL when the event has none
  thread_key      TEXT,                              -- owner/repo#number for issues and pull requests
  sender_login    TEXT,
  sender_type     TEXT,                              -- User, Bot, Organization
  hook_id         TEXT,                              -- X-GitHub-Hook-ID
  payload         BLOB,                              -- the raw body exactly as GitHub signed it
  payload_sha256  TEXT    NOT NULL,
  payload_size    INTEGER NOT NULL,
  signature       TEXT,                              -- X-Hub-Signature-256 as received
  status          TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'retry', 'skipped')),
  skip_reason     TEXT,
  wait_reason     TEXT,                              -- why a pending event waits (set by a deferring handler)
  attempts        INTEGER NOT NULL DEFAULT 0,        -- claims of the current run; reset by replay
  priority        INTEGER NOT NULL DEFAULT 5,        -- lower runs first
  created_at      INTEGER NOT NULL,
  scheduled_at    INTEGER NOT NULL,                  -- not claimed before this time
  started_at      INTEGER,                           -- last claim
  completed_at    INTEGER,                           -- reached completed, failed or skipped
  locked_by       TEXT,                              -- lease owner (worker id)
  locked_until    INTEGER,                           -- lease expiry
  error_class     TEXT,                              -- transient, permanent, lease_expired, ...
  error_message   TEXT,
  replay_count    INTEGER NOT NULL DEFAULT 0
);

-- The claim walks this partial index in claim order and stops at the first due row
-- (named with INDEXED BY in the claim, so that the planner can never fall back to a sort).
CREATE INDEX webhook_events_due ON webhook_events (priority, scheduled_at, id)
  WHERE status IN ('pending', 'retry');
CREATE INDEX webhook_events_leased ON webhook_events (locked_until) WHERE status = 'processing';
CREATE INDEX webhook_events_created ON webhook_events (created_at);
CREATE INDEX webhook_events_thread ON webhook_events (thread_key, id);

-- Every status change, written by a trigger so that no code path can forget it.
CREATE TABLE event_history (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id      INTEGER NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
  at            INTEGER NOT NULL,
  from_status   TEXT,
  to_status     TEXT    NOT NULL,
  attempt       INTEGER NOT NULL,
  worker        TEXT,
  error_class   TEXT,
  error_message TEXT,
  skip_reason   TEXT
);
CREATE INDEX event_history_event ON event_history (event_id, id);
CREATE INDEX event_history_at ON event_history (at, to_status);

CREATE TRIGGER webhook_events_history_insert AFTER INSERT ON webhook_events
BEGIN
  INSERT INTO event_history (event_id, at, from_status, to_status, attempt)
  VALUES (new.id, new.created_at, NULL, new.status, new.attempts);
END;

CREATE TRIGGER webhook_events_history_update AFTER UPDATE OF status ON webhook_events
WHEN old.status IS NOT new.status
BEGIN
  INSERT INTO event_history (event_id, at, from_status, to_status, attempt, worker,
                             error_class, error_message, skip_reason)
  VALUES (new.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), old.status, new.status,
          new.attempts, coalesce(new.locked_by, old.locked_by),
          CASE WHEN new.status IN ('retry', 'failed') THEN new.error_class END,
          CASE WHEN new.status IN ('retry', 'failed') THEN new.error_message END,
          CASE WHEN new.status = 'skipped' THEN new.skip_reason END);
END;

-- One row per model call, written before any GitHub action.
CREATE TABLE claude_analyses (
  id                    INTEGER PRIMARY KEY AUTOINCREMENT,
  webhook_id            INTEGER NOT NULL REFERENCES webhook_events (id),
  event_type            TEXT    NOT NULL,
  repository            TEXT,
  model                 TEXT,
  template              TEXT,
  claude_prompt         TEXT,
  claude_response       TEXT,
  claude_tokens_used    INTEGER NOT NULL DEFAULT 0,  -- sum of the four token columns
  input_tokens          INTEGER NOT NULL DEFAULT 0,
  output_tokens         INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens    INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
  claude_cost_usd       REAL    NOT NULL DEFAULT 0,
  github_actions_json   TEXT,
  processing_time_ms    INTEGER,
  created_at            INTEGER NOT NULL
);
CREATE INDEX claude_analyses_webhook ON claude_analyses (webhook_id);
CREATE INDEX claude_analyses_created ON claude_analyses (created_at);

PRAGMA user_version = 1;
