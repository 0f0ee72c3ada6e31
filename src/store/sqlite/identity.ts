import type { Db } from './open.js';

/** `PRAGMA application_id` of every file hls creates or migrates ("hlsQ"): tells hls's files from others'. */
export const HLS_APPLICATION_ID = 0x686c7351;

/**
 * new: empty (user_version 0, no tables), hls may create its schema in it. hls: stamped with hls's
 * application_id, or made by an hls older than the stamp (application_id 0, user_version ≥ 1 and hls's
 * `webhook_events` table). foreign: anything else — another program's file, never to be touched.
 */
export type DatabaseOwner = 'new' | 'hls' | 'foreign';

/**
 * Reads only the header and the schema table, changing nothing whatever the file is. One read
 * transaction, so that another process migrating a new file meanwhile cannot make it look half-done
 * (version 0 with tables: foreign).
 */
export function identifyDatabase(db: Db): { owner: DatabaseOwner; version: number } {
  return db.transaction(() => {
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (applicationId === HLS_APPLICATION_ID) return { owner: 'hls' as const, version };
    if (applicationId !== 0) return { owner: 'foreign' as const, version };
    const objects = db.prepare(`SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'`).pluck().all();
    if (version === 0 && objects.length === 0) return { owner: 'new' as const, version };
    return {
      owner: version >= 1 && objects.includes('webhook_events') ? ('hls' as const) : ('foreign' as const),
      version,
    };
  })();
}
