-- Version 6: what maintainers told hls about a thread with comment commands (/hls ignore, /hls resume).

-- One row per thread a command changed; a thread without a row is analysed as usual.
CREATE TABLE thread_settings (
  thread_key  TEXT    PRIMARY KEY,                 -- owner/repo#number
  ignored     INTEGER NOT NULL,                    -- 1 after /hls ignore, 0 after /hls resume
  changed_by  TEXT    NOT NULL,                    -- the login that gave the command
  changed_at  INTEGER NOT NULL
);

PRAGMA user_version = 6;
