-- Version 5: every paid model call is in the ledger, and pauses lifted by hand are remembered.

-- A call's ledger row is written before the request, as outcome `sent` with claude_cost_usd = its
-- reserved worst case, and settled after the answer (real tokens and cost, outcome ok/refusal/…).
-- A `sent` row whose attempt was orphaned (its worker killed or hung past its lease) is settled by the
-- rescue as outcome `unsettled`, still at its worst case: the call may have been paid.
ALTER TABLE claude_analyses ADD COLUMN reserved_usd REAL;
-- webhook_events.attempts of the attempt that made the call: the row is orphaned once that attempt is over.
ALTER TABLE claude_analyses ADD COLUMN attempt INTEGER;
-- The budget_reservations row of the call, when a daily budget applies.
ALTER TABLE claude_analyses ADD COLUMN reservation_id INTEGER;
ALTER TABLE claude_analyses ADD COLUMN settled_at INTEGER;
CREATE INDEX claude_analyses_sent ON claude_analyses (webhook_id) WHERE outcome = 'sent';

-- Pauses an operator lifted with `hls resume`, as they were when lifted.
CREATE TABLE api_pause_history (
  id              INTEGER PRIMARY KEY,
  scope           TEXT    NOT NULL,                -- github:<sha>, anthropic:<sha>, anthropic-spend:<sha>
  reason          TEXT    NOT NULL,
  started_at      INTEGER NOT NULL,
  until_at        INTEGER NOT NULL,                -- when it would have ended
  hits            INTEGER NOT NULL,
  resumed_at      INTEGER NOT NULL,
  resumed_by      TEXT    NOT NULL,                -- user@host that ran `hls resume`
  note            TEXT,                            -- `hls resume --note`
  events_resumed  INTEGER NOT NULL                 -- waiting events made due at once
);
CREATE INDEX api_pause_history_resumed ON api_pause_history (resumed_at);

PRAGMA user_version = 5;
