-- Version 3: each worker process records itself, so that stats can tell live workers from dead ones.
CREATE TABLE workers (
  id            TEXT PRIMARY KEY,                  -- --id, or host:pid
  pid           INTEGER NOT NULL,
  host          TEXT    NOT NULL,
  started_at    INTEGER NOT NULL,
  heartbeat_at  INTEGER NOT NULL,
  lease_ms      INTEGER NOT NULL,                  -- a worker silent for longer than its lease is stale
  concurrency   INTEGER NOT NULL,
  in_flight     INTEGER NOT NULL DEFAULT 0,
  processed     INTEGER NOT NULL DEFAULT 0,        -- events finished since it started
  stopped_at    INTEGER                            -- set on a clean exit
);

PRAGMA user_version = 3;
