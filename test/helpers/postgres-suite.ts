// What a suite on the PostgreSQL backend needs around the throwaway cluster: the rule for a machine
// without PostgreSQL, and rows read as an operator would with psql.
import { describe, it } from 'vitest';
import { postgresBinDir, type Cluster } from './postgres-cluster.js';

/** CI or HLS_REQUIRE_POSTGRES: a missing PostgreSQL (or tool a suite needs) is a failure, not a skip. */
export const POSTGRES_REQUIRED = Boolean(process.env.CI || process.env.HLS_REQUIRE_POSTGRES);

/**
 * `describe` for suites that start their own cluster: without PostgreSQL installed, fail when CI or
 * HLS_REQUIRE_POSTGRES is set, else skip with a loud warning naming `file`.
 */
export function describeWithPostgres(file: string, name: string, body: () => void): void {
  if (postgresBinDir()) {
    describe(name, body);
  } else if (POSTGRES_REQUIRED) {
    describe(name, () => {
      it('needs PostgreSQL', () => {
        throw new Error(
          'PostgreSQL is not installed under /usr/lib/postgresql, and CI or HLS_REQUIRE_POSTGRES is set: ' +
            'apt-get install postgresql so the PostgreSQL tests run',
        );
      });
    });
  } else {
    console.warn(
      `\n*** WARNING: ${file} DID NOT RUN: PostgreSQL is not installed (Debian package \`postgresql\`).\n` +
        '*** Install it, or set HLS_REQUIRE_POSTGRES=1 to make this an error.\n',
    );
    describe.skip(name, () => {
      it('is not installed', () => {});
    });
  }
}

/** The rows of `sql` in the database of `url`, read through psql as JSON (bigint columns as numbers). */
export function pgRows<T = Record<string, unknown>>(cluster: Cluster, url: string, sql: string): T[] {
  const database = decodeURIComponent(new URL(url).pathname.slice(1));
  return JSON.parse(cluster.psql(`SELECT coalesce(json_agg(t), '[]') FROM (${sql}) t`, database)) as T[];
}
