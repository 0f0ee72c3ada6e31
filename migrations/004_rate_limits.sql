-- Version 4: what every process shares to stay inside GitHub's and Anthropic's rate limits, and the
-- request and processing durations that `hls stats --format prometheus` exports.

-- Every rate-limit header set an API answered with, per key (sha256 of the token or API key, never
-- the key itself): the history of how close hls ran to its limits.
CREATE TABLE rate_limit_history (
  id           INTEGER PRIMARY KEY,
  api          TEXT    NOT NULL CHECK (api IN ('github', 'anthropic')),
  key_sha256   TEXT    NOT NULL,
  -- GitHub: x-ratelimit-resource (core, search, graphql, …);
  -- Anthropic: requests, tokens, input-tokens, output-tokens
  resource     TEXT    NOT NULL,
  limit_value  INTEGER,
  remaining    INTEGER,
  used         INTEGER,
  reset_at     INTEGER,                            -- ms since the epoch
  observed_at  INTEGER NOT NULL
);
CREATE INDEX rate_limit_history_latest ON rate_limit_history (api, key_sha256, resource); -- newest = max(id)

-- A pause all processes honour before their next request of that kind.
CREATE TABLE api_pauses (
  scope       TEXT    PRIMARY KEY,                 -- github:<sha>, anthropic:<sha>, anthropic-spend:<sha>
  until_at    INTEGER NOT NULL,
  reason      TEXT    NOT NULL,
  started_at  INTEGER NOT NULL,
  hits        INTEGER NOT NULL DEFAULT 1           -- answers that asked for this pause
);

-- Content-creating GitHub requests (POST, PATCH, PUT, DELETE) as they were sent, per token: the shared
-- write pacing counts them. Rows older than the longest pacing window are deleted as new ones come.
CREATE TABLE github_writes (
  key_sha256  TEXT    NOT NULL,
  sent_at     INTEGER NOT NULL
);
CREATE INDEX github_writes_by_token ON github_writes (key_sha256, sent_at);

-- Histograms whose counts only grow (Prometheus counters): request and processing durations.
CREATE TABLE metric_buckets (
  metric  TEXT    NOT NULL,                        -- e.g. github_request_duration_seconds
  labels  TEXT    NOT NULL,                        -- JSON object of label values, keys sorted
  bucket  INTEGER NOT NULL,                        -- index of the first bound ≥ the value; bounds.length = +Inf
  count   INTEGER NOT NULL,
  PRIMARY KEY (metric, labels, bucket)
);
CREATE TABLE metric_totals (
  metric  TEXT    NOT NULL,
  labels  TEXT    NOT NULL,
  count   INTEGER NOT NULL,
  sum     REAL    NOT NULL,
  PRIMARY KEY (metric, labels)
);

PRAGMA user_version = 4;
