// What a suite on the PostgreSQL backend needs around its own throwaway cluster: the rule for a
// machine without PostgreSQL, workspaces on fresh databases, worker processes, and rows read as an
// operator would with psql.
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { finished, startHls, type RunResult } from './hls.js';
import { postgresBinDir, startCluster, type Cluster } from './postgres-cluster.js';
import { workspace, type Workspace } from './setup.js';

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

export interface StartedWorker {
  child: ChildProcess;
  done: Promise<RunResult>;
}

export interface PostgresSuite {
  /** The suite's cluster, started before its first test and stopped after its last. */
  readonly cluster: Cluster;
  /**
   * A scripted-handler workspace (see setup.ts) on a new database, selected by HLS_DB; `db` is its
   * URL. Idle workers poll every 250 ms unless `queue` says otherwise: LISTEN wakes them for new
   * events, and 50 ms polls of several workers only load the machine.
   */
  workspace(queue?: Record<string, number>): Workspace;
  /** The rows of `sql` in the database of `url`, through psql as JSON (bigint columns as numbers). */
  rows<T = Record<string, unknown>>(url: string, sql: string): T[];
  /** webhook_events rows that meet `condition` (SQL). */
  countEvents(url: string, condition: string): number;
  /** `hls worker …` as a real process; SIGKILLed after the test if it still runs. */
  startWorker(env: NodeJS.ProcessEnv, args: string[]): StartedWorker;
}

/** Registers the hooks of a suite with its own cluster (call it inside the suite's describe). */
export function postgresSuite(): PostgresSuite {
  let cluster: Cluster | undefined;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(() => cluster?.stop());
  afterEach(() => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  const started = (): Cluster => {
    if (!cluster) throw new Error('the suite has no cluster yet (postgresSuite() starts it in beforeAll)');
    return cluster;
  };
  const rows = <T>(url: string, sql: string): T[] => {
    const database = decodeURIComponent(new URL(url).pathname.slice(1));
    return JSON.parse(started().psql(`SELECT coalesce(json_agg(t), '[]') FROM (${sql}) t`, database)) as T[];
  };
  return {
    get cluster() {
      return started();
    },
    workspace(queue = {}) {
      const ws = workspace({ poll_ms: 250, ...queue });
      const url = started().createDatabase();
      return { ...ws, db: url, env: { ...ws.env, HLS_DB: url } };
    },
    rows,
    countEvents: (url, condition) =>
      rows<{ n: number }>(url, `SELECT count(*) AS n FROM webhook_events WHERE ${condition}`)[0]!.n,
    startWorker(env, args) {
      const child = startHls(['worker', ...args], { env });
      children.push(child);
      return { child, done: finished(child) };
    },
  };
}

/** SIGTERM, then the exit: a worker that stops cleanly exits 0. */
export async function stopWorker(worker: StartedWorker): Promise<RunResult> {
  worker.child.kill('SIGTERM');
  return worker.done;
}
