import { DatabaseMissingError, DatabaseRefusedError, schemaTooNew } from '../errors.js';
import postgres from 'postgres';
import { describeTarget, type OpenOptions } from '../open-store.js';
import type { QueueStore, Store } from '../store.js';
import { postgresAdmin } from './admin.js';
import { postgresCache } from './cache.js';
import { postgresThreads } from './threads.js';
import { databaseClock, offsetFrom, SERVER_NOW_MS } from './clock.js';
import { connectOptions, type Sql } from './connect.js';
import { asStoreError, translatingErrors } from './errors.js';
import { postgresLedger } from './ledger.js';
import { postgresLimits } from './limits.js';
import { identify, migrate, notHls, POSTGRES_SCHEMA_VERSION, type DatabaseOwner } from './migrate.js';
import { postgresQueue } from './queue.js';
import { postgresSimilar } from './similar.js';
import { postgresWorkers } from './workers.js';

export { POSTGRES_SCHEMA_VERSION } from './migrate.js';

/**
 * Opens the hls database at a postgres:// URL; refuses (DatabaseMissingError, DatabaseRefusedError)
 * before changing anything in a database that is not hls's or that this command may not create or
 * migrate. Connection failures throw DatabaseUnavailableError; no message carries the password.
 */
export async function openPostgresStore(url: string, options: OpenOptions = {}): Promise<Store> {
  const location = describeTarget(url);
  const target = parsedTarget(url, options, location);
  const sql = postgres(target.url, target.options);
  try {
    const offset = await bringToSchema(sql, location, options.create === true);
    const clock = await databaseClock(sql, offset);
    const { queue, stopListening } = withListenersClosed(postgresQueue(sql, target));
    return {
      backend: 'postgres',
      location,
      queue: translatingErrors(queue, location),
      ledger: translatingErrors(postgresLedger(sql), location),
      limits: translatingErrors(postgresLimits(sql), location),
      cache: translatingErrors(postgresCache(sql), location),
      similar: translatingErrors(postgresSimilar(sql), location),
      threads: translatingErrors(postgresThreads(sql), location),
      workers: translatingErrors(postgresWorkers(sql), location),
      admin: translatingErrors(postgresAdmin(sql), location),
      clock,
      async close() {
        await stopListening();
        // Every query has been awaited: Terminate at once rather than wait ~12 ms for the server to hang up.
        await sql.end({ timeout: 0 });
      },
    };
  } catch (error) {
    await sql.end({ timeout: 0 });
    throw asStoreError(error, location);
  }
}

/** Listeners a caller left open end with the store: their connections would keep the process alive. */
function withListenersClosed(queue: QueueStore): { queue: QueueStore; stopListening: () => Promise<void> } {
  const listening = new Set<() => Promise<void>>();
  const listen = async (onEvent: () => void) => {
    const stop = await queue.listen(onEvent);
    const unlisten = async () => {
      listening.delete(unlisten);
      await stop();
    };
    listening.add(unlisten);
    return unlisten;
  };
  return {
    queue: { ...queue, listen },
    stopListening: async () => {
      await Promise.all([...listening].map((unlisten) => unlisten()));
    },
  };
}

/**
 * Refuses or migrates as the options allow; returns the clock offset when the usual check (an hls
 * database at this version) measured it on the way, so that `hls queue` needs one round trip here.
 */
async function bringToSchema(sql: Sql, location: string, create: boolean): Promise<number | undefined> {
  const { owner, version, offset } = await probe(sql);
  if (owner === 'foreign') throw notHls(location);
  if (version > POSTGRES_SCHEMA_VERSION) throw schemaTooNew(version, POSTGRES_SCHEMA_VERSION);
  if (version === POSTGRES_SCHEMA_VERSION) return offset;
  if (create) {
    await migrate(sql, location);
    return undefined;
  }
  if (owner === 'new') {
    throw new DatabaseMissingError(
      `database ${location} is empty: nothing has been queued yet, or pass --db / HLS_DATABASE_URL`,
    );
  }
  throw new DatabaseRefusedError(
    `database ${location} has schema version ${version}, this hls uses ${POSTGRES_SCHEMA_VERSION}: start a worker ` +
      `or run hls queue once to upgrade it`,
  );
}

/** The schema version and the server's clock in one query; the catalog (identify) when hls_schema is missing. */
async function probe(sql: Sql): Promise<{ owner: DatabaseOwner; version: number; offset?: number }> {
  const sentAt = Date.now();
  try {
    const [row] = await sql<{ version: number; now: number }[]>`
      SELECT coalesce(max(version), 0) AS version, ${sql.unsafe(SERVER_NOW_MS)} AS now FROM hls_schema`;
    return { owner: 'hls', version: row!.version, offset: offsetFrom(row!.now, sentAt) };
  } catch (error) {
    if ((error as { code?: string }).code !== '42P01') throw error; // undefined_table: not hls's, or new
    return identify(sql);
  }
}

/** What `hls doctor` reports of a PostgreSQL target; reads the catalog only and creates nothing. */
export async function inspectPostgres(
  url: string,
): Promise<{ reachable: boolean; owner: DatabaseOwner; version: number; error?: string }> {
  const location = describeTarget(url);
  let sql: Sql | undefined;
  try {
    const target = parsedTarget(url, { maxConnections: 1 }, location);
    sql = postgres(target.url, target.options);
    return { reachable: true, ...(await identify(sql)) };
  } catch (error) {
    const reported = asStoreError(error, location);
    return { reachable: false, owner: 'new', version: 0, error: (reported as Error).message ?? String(reported) };
  } finally {
    await sql?.end({ timeout: 0 });
  }
}

/** connectOptions, with an unparsable URL refused without echoing it (it may hold a password). */
export function parsedTarget(url: string, options: OpenOptions, location: string): ReturnType<typeof connectOptions> {
  try {
    return connectOptions(url, options);
  } catch (error) {
    if (error instanceof DatabaseRefusedError) throw error;
    throw new DatabaseRefusedError(
      `database URL ${location} cannot be used (${(error as Error).message}): check database.url or HLS_DATABASE_URL`,
    );
  }
}
