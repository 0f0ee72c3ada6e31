import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { postgresBinDir } from './test/helpers/postgres-cluster.js';

const shared = { testTimeout: 60_000, hookTimeout: 60_000 };

/** The suites whose behaviour depends on the store: they run again on PostgreSQL. */
const ON_BOTH_BACKENDS = [
  'chaos',
  'comment-commands',
  'doctor',
  'github-app',
  'handlers',
  'hostile',
  'ledger',
  'metrics',
  'pacing',
  'pipeline',
  'pipeline-failures',
  'prune',
  'queue',
  'rate-limits',
  'similar-cli',
  'similar-store',
  'recover',
  'related-issues',
  'relay',
  'report',
  'repository-settings',
  'resume',
  'stats-replay-show',
  'worker',
  'worker-identity',
];

/*
 * Left out of the postgres project, one reason each:
 * - config, duration, error-classes, sanitize, intake-json-depth, docs-links, comment-command-parse,
 *   repository-settings-narrow: pure in-process code, no database.
 * - corpus: the handlers' reading of 329 real payloads; the store side is what pipeline/handlers cover.
 * - operator-errors: argument and config validation; the database is a bystander.
 * - operator-files: the shipped systemd units, scripts and examples.
 * - github-timeouts: the GitHub client's timeouts; the database is a bystander.
 * - database-identity, foreign-database, schema: SQLite files (foreign, old-schema, corrupt) opened directly.
 * - full-disk: a full tmpfs under the SQLite file.
 * - load: the slow load test (the relay under load); its claim figures are bench/'s job on PostgreSQL.
 * - labels, monitoring, payload-validation: the store is only a bystander (label sync's cache, the
 *   --check thresholds over `hls stats`, payload shapes failing before any query); kept out for CI time.
 * - allowlist, front-door: GitHub's /meta and nginx in front of the relay; the store is a bystander (the
 *   rows of the deliveries nginx let through, which relay covers on both backends).
 * - postgres-store, postgres-passfile, db-copy: they start their own cluster (db-copy copies an SQLite
 *   file into it); they run once, in the sqlite project.
 */

const POSTGRES_REQUIRED = Boolean(process.env.CI || process.env.HLS_REQUIRE_POSTGRES);

function postgresProject(): TestProjectInlineConfiguration | undefined {
  if (!postgresBinDir() && !POSTGRES_REQUIRED) {
    console.warn(
      '\n*** WARNING: the postgres test project DID NOT RUN: PostgreSQL is not installed ' +
        '(/usr/lib/postgresql/*/bin/initdb).\n' +
        '*** apt-get install postgresql, or set HLS_REQUIRE_POSTGRES=1 to make this an error.\n',
    );
    return undefined;
  }
  return {
    test: {
      ...shared,
      // Every hls process also connects to the server: the longest files (40 sequential `hls queue` runs
      // and two workers) took 55-60 s on a loaded 2-core machine.
      testTimeout: 120_000,
      name: 'postgres',
      include: ON_BOTH_BACKENDS.map((name) => `test/${name}.test.ts`),
      env: { HLS_TEST_BACKEND: 'postgres' },
      globalSetup: ['test/helpers/postgres-global-setup.ts'],
      // Without PostgreSQL (and CI or HLS_REQUIRE_POSTGRES set) every file fails saying what to install.
      setupFiles: ['test/helpers/postgres-required.ts'],
    },
  };
}

export default defineConfig({
  test: {
    // Suites start real processes; two at a time matches the 2-core machines.
    maxWorkers: 2,
    reporters: ['default', './test/helpers/project-counts-reporter.ts'],
    projects: [
      { test: { ...shared, name: 'sqlite', include: ['test/**/*.test.ts'], env: { HLS_TEST_BACKEND: 'sqlite' } } },
      ...[postgresProject()].filter((project) => project !== undefined),
    ],
  },
});
