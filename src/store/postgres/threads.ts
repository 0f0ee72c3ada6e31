import type { ThreadStore } from '../store.js';
import type { IgnoredThread } from '../types.js';
import type { Sql } from './connect.js';

export function postgresThreads(sql: Sql): ThreadStore {
  return {
    async ignoredThread(threadKey) {
      const [row] = await sql<IgnoredThread[]>`
        SELECT changed_by AS "by", changed_at AS "at" FROM thread_settings
         WHERE thread_key = ${threadKey} AND ignored = 1`;
      return row;
    },

    async setThreadIgnored(threadKey, ignored, by) {
      await sql`
        INSERT INTO thread_settings (thread_key, ignored, changed_by, changed_at)
        VALUES (${threadKey}, ${ignored ? 1 : 0}, ${by}, hls_now_ms())
        ON CONFLICT (thread_key) DO UPDATE SET ignored = excluded.ignored, changed_by = excluded.changed_by,
          changed_at = excluded.changed_at`;
    },
  };
}
