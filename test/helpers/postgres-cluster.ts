// A throwaway PostgreSQL cluster for tests: initdb + pg_ctl from Debian's `postgresql` package in a temp
// dir, on a random loopback port, as the `postgres` user when running as root (initdb refuses root).
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PG_ROOT = '/usr/lib/postgresql';

/** The bin directory of the newest installed PostgreSQL, or undefined when none is installed. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => existsSync(join(PG_ROOT, v, 'bin/initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(PG_ROOT, versions[0], 'bin') : undefined;
}

export interface Cluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust authentication, no password). */
  adminUrl: string;
  port: number;
  dir: string;
  /** A new, empty database; its URL. */
  createDatabase(name?: string): string;
  /** Runs SQL as the superuser through psql; returns psql's unaligned output. */
  psql(sql: string, database?: string): string;
  /** Stops the server (fast: open connections are cut) and starts it again on the same port. */
  restart(options?: { downMs?: number }): Promise<void>;
  stop(): void;
}

const IS_ROOT = process.getuid?.() === 0;

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Runs a PostgreSQL binary as the cluster's owner. */
function asOwner(bin: string, args: string[]): string {
  const [command, argv] = IS_ROOT ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  return execFileSync(command, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

let databases = 0;

export interface ClusterOptions {
  /** Keep fsync on, as a production server has it (the benches); the test suites turn it off for speed. */
  fsync?: boolean;
  /** Addresses to listen on besides 127.0.0.1 (e.g. the root side of network namespaces' links). */
  listen?: string[];
  /** Client networks (CIDR) let in without a password besides loopback, e.g. the namespaces' subnets. */
  trust?: string[];
}

export async function startCluster({ fsync = false, listen = [], trust = [] }: ClusterOptions = {}): Promise<Cluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(`no PostgreSQL under ${PG_ROOT}: apt-get install postgresql`);
  const dir = mkdtempSync(join(tmpdir(), 'hls-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  if (IS_ROOT) execFileSync('chown', ['postgres:postgres', dir]);
  asOwner(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  for (const network of trust) appendFileSync(join(data, 'pg_hba.conf'), `host all all ${network} trust\n`);
  const listenAddresses = ['127.0.0.1', ...listen].join(',');
  const start = (): void => {
    asOwner(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=${listenAddresses} -c fsync=${fsync ? 'on' : 'off'} -c max_connections=300`,
      'start',
    ]);
  };
  const stop = (): void => {
    asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
  };
  start();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const psql = (sql: string, database = 'postgres'): string =>
    execFileSync(
      'psql',
      [
        '-X',
        '-q',
        '-A',
        '-t',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        database,
        '-c',
        sql,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  return {
    adminUrl,
    port,
    dir,
    createDatabase(name = `hls_test_${process.pid}_${++databases}`) {
      psql(`CREATE DATABASE ${name}`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    psql,
    async restart({ downMs = 0 } = {}) {
      stop();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      start();
    },
    stop() {
      try {
        stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
