import type { Sql } from './connect.js';

const REFRESH_MS = 30_000;

/** The database's clock minus this host's, measured against the midpoint of one round trip. */
async function measureOffset(sql: Sql): Promise<number> {
  const sentAt = Date.now();
  const [row] = await sql<{ now: number }[]>`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now`;
  const receivedAt = Date.now();
  return row!.now - (sentAt + receivedAt) / 2;
}

/**
 * A synchronous reading of the database's clock: this host's clock plus an offset measured at start
 * and measured again in the background at most every 30 s (a failed measurement keeps the last one).
 */
export async function databaseClock(sql: Sql): Promise<() => number> {
  let offset = await measureOffset(sql);
  let measuredAt = Date.now();
  return () => {
    const now = Date.now();
    if (now - measuredAt > REFRESH_MS) {
      measuredAt = now;
      measureOffset(sql).then(
        (measured) => (offset = measured),
        () => {},
      );
    }
    return Math.round(now + offset);
  };
}
