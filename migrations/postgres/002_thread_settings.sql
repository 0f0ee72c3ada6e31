-- Version 2: what maintainers told hls about a thread with comment commands (/hls ignore, /hls resume).

-- One row per thread a command changed; a thread without a row is analysed as usual.
CREATE TABLE thread_settings (
  thread_key  text    PRIMARY KEY,                 -- owner/repo#number
  ignored     boolean NOT NULL,                    -- true after /hls ignore, false after /hls resume
  changed_by  text    NOT NULL,                    -- the login that gave the command
  changed_at  bigint  NOT NULL
);
