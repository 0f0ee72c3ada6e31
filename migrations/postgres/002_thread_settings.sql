-- Version 2: what maintainers told hls about a thread with comment commands (/hls ignore, /hls resume).

-- One row per thread a command changed; a thread without a row is analysed as usual.
CREATE TABLE thread_settings (
  thread_key  text    PRIMARY KEY,                 -- owner/repo#number
  ignored     integer NOT NULL,                    -- 1 after /hls ignore, 0 after /hls resume (as in SQLite:
                                                   -- hls db copy moves rows column by column)
  changed_by  text    NOT NULL,                    -- the login that gave the command
  changed_at  bigint  NOT NULL
);
