import type { Sql } from './connect.js';

const REFRESH_MS = 30_000;

/** The server's clock in epoch ms, as SQL (hls_now_ms() may not exist yet). */
export const SERVER_NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/**
 * The database's clock minus this host's: `serverNow` read by a query sent at `sentAt` and answered now.
 * An offset within half the round trip cannot be told from none (the server may have read its clock
 * anywhere in it): it is taken as 0, so that a server on this host, or on one in step with it, adds no
 * error of its own to the times this process writes.
 */
export function offsetFrom(serverNow: number, sentAt: number): number {
  const answeredAt = Date.now();
  const offset = serverNow - (sentAt + answeredAt) / 2;
  return Math.abs(offset) <= (answeredAt - sentAt) / 2 + 1 ? 0 : offset;
}

async function measureOffset(sql: Sql): Promise<number> {
  const sentAt = Date.now();
  const [row] = await sql<{ now: number }[]>`SELECT ${sql.unsafe(SERVER_NOW_MS)} AS now`;
  return offsetFrom(row!.now, sentAt);
}

/**
 * A synchronous reading of the database's clock: this host's clock plus an offset measured at start
 * and measured again in the background at most every 30 s (a failed measurement keeps the last one).
 */
export async function databaseClock(sql: Sql, measured?: number): Promise<() => number> {
  let offset = measured ?? (await measureOffset(sql));
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
