import { describeTarget } from '../../store/open-store.js';
import { inspectPostgres, POSTGRES_SCHEMA_VERSION } from '../../store/postgres/index.js';
import { fail, ok, skip, type Check } from '../check.js';

/** Reachable, whose database it is and its schema version; never creates or migrates anything. */
export async function checkPostgres(url: string): Promise<Check[]> {
  const where = describeTarget(url);
  const found = await inspectPostgres(url);
  if (!found.reachable) {
    const reason =
      found.error ?? `${where} cannot be reached: check database.url, PGPASSWORD or ~/.pgpass, and sslmode`;
    return [fail('database', reason), skip('database schema', 'the database cannot be reached')];
  }
  const database = ok('database', `${where} (PostgreSQL, reachable)`);
  if (found.owner === 'foreign') {
    return [
      database,
      fail(
        'database schema',
        `${where} holds tables that are not hls's: hls refuses to use it; point database.url at hls's database`,
      ),
    ];
  }
  if (found.owner === 'new') {
    return [
      database,
      ok(
        'database schema',
        `empty: the next hls queue or worker creates the schema (version ${POSTGRES_SCHEMA_VERSION})`,
      ),
    ];
  }
  if (found.version > POSTGRES_SCHEMA_VERSION) {
    return [
      database,
      fail(
        'database schema',
        `version ${found.version} is newer than this hls supports (${POSTGRES_SCHEMA_VERSION}): upgrade hls`,
      ),
    ];
  }
  if (found.version < POSTGRES_SCHEMA_VERSION) {
    return [
      database,
      ok(
        'database schema',
        `version ${found.version}: the next hls queue or worker migrates it to ${POSTGRES_SCHEMA_VERSION}`,
      ),
    ];
  }
  return [database, ok('database schema', `version ${found.version}`)];
}
