import { existsSync, statSync, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { inspectSqliteFile, type SqliteFileHeader } from '../../store/sqlite/inspect.js';
import { SCHEMA_VERSION } from '../../store/sqlite/migrate.js';
import { fail, ok, skip, type Check } from '../check.js';
import { formatBytes, isWritable, octal, uid } from '../files.js';

const DATABASE_CHECKS = [
  'database',
  'database schema',
  'database integrity',
  'database journal',
  'database mode',
] as const;

/**
 * Exists and writable, then whose file it is and its schema version, its pages (quick_check), journal
 * mode and file mode; never creates, migrates or changes the file.
 */
export function checkDatabase(path: string | undefined): Check[] {
  if (path === undefined) {
    return DATABASE_CHECKS.map((name) => skip(name, 'the config did not load, and neither --db nor HLS_DB is set'));
  }
  const file = checkDatabaseFile(path);
  if (file.status !== 'ok') {
    return [file, ...DATABASE_CHECKS.slice(1).map((name) => skip(name, 'no usable database file'))];
  }
  // Stat before SQLite opens the file: a read-only open may create the -wal and -shm files.
  const modeCheck = checkDatabaseMode(path);
  let header: SqliteFileHeader;
  try {
    header = inspectSqliteFile(path);
  } catch (error) {
    const reason = `cannot read ${path}: ${describe(error)}`;
    return [
      file,
      fail('database schema', `${reason} (is it an hls database?)`),
      skip('database integrity', reason),
      skip('database journal', reason),
      modeCheck,
    ];
  }
  if (header.owner === 'foreign') {
    const reason = `${path} is not an hls database (another program's SQLite file?)`;
    return [
      file,
      fail('database schema', `${reason}: hls refuses to use it; point --db, HLS_DB or database.path at hls's file`),
      skip('database integrity', reason),
      skip('database journal', reason),
      modeCheck,
    ];
  }
  return [
    file,
    checkSchemaVersion(header.version),
    checkIntegrity(header.quickCheck),
    checkJournalMode(path, header.journal, header.version),
    modeCheck,
  ];
}

function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  return `${code ? `${code} ` : ''}${(error as Error).message}`;
}

function checkDatabaseFile(path: string): Check {
  const dir = dirname(path);
  if (!existsSync(path)) {
    const where = !existsSync(dir)
      ? `; its directory ${dir} does not exist either (install -d -o hls -g hls -m 0700 ${dir})`
      : !isWritable(dir)
        ? `; its directory ${dir} is not writable by uid ${uid()}, so it could not be created`
        : '';
    return fail(
      'database',
      `${path} does not exist${where}: hls queue and hls worker create it on first use; if events were ` +
        `already queued, point --db, HLS_DB or database.path at that file`,
    );
  }
  const stat = statSync(path);
  if (!stat.isFile()) return fail('database', `${path} is not a regular file: check --db, HLS_DB or database.path`);
  const notWritable = [dir, path, `${path}-wal`, `${path}-shm`].filter(
    (candidate, index) => (index < 2 || existsSync(candidate)) && !isWritable(candidate),
  );
  if (notWritable.length > 0) {
    return fail(
      'database',
      `not writable by uid ${uid()}: ${notWritable.join(', ')} (SQLite writes the file and creates -wal and -shm ` +
        `next to it): run doctor as the user the workers run as (sudo -u hls hls doctor), or give that user ` +
        `the directory and files (chown -R hls: ${dir})`,
    );
  }
  return ok('database', `${path} (${formatBytes(stat.size)}, writable)`);
}

/** Corrupt pages make commands fail with exit 74; quick_check finds them without reading every index entry. */
export function checkIntegrity(quickCheck: string[] | Error): Check {
  const name = 'database integrity';
  if (!(quickCheck instanceof Error) && quickCheck.length === 1 && quickCheck[0] === 'ok')
    return ok(name, 'quick_check ok');
  const findings = quickCheck instanceof Error ? describe(quickCheck) : quickCheck.slice(0, 3).join('; ');
  return fail(
    name,
    `quick_check found corruption (${findings}): stop the workers and restore the file from a backup ` +
      `(or try sqlite3's .recover into a new file)`,
  );
}

export function checkSchemaVersion(version: number): Check {
  const name = 'database schema';
  if (version === SCHEMA_VERSION) return ok(name, `version ${version}`);
  if (version > SCHEMA_VERSION) {
    return fail(
      name,
      `version ${version} is newer than this hls supports (${SCHEMA_VERSION}): hls refuses to open it; upgrade hls ` +
        `(git pull && npm ci in its directory) or point --db at the right file`,
    );
  }
  if (version === 0) {
    return ok(name, `empty: the next hls queue or worker creates the schema (version ${SCHEMA_VERSION})`);
  }
  return ok(
    name,
    `version ${version}: the next hls queue or worker migrates it to ${SCHEMA_VERSION}; other commands refuse it until then`,
  );
}

export function checkJournalMode(path: string, journal: string, version: number): Check {
  const name = 'database journal';
  if (journal === 'wal') return ok(name, 'wal');
  if (version < SCHEMA_VERSION) return ok(name, `${journal}: the next hls queue or worker switches it to wal`);
  return fail(
    name,
    `journal_mode is ${journal}, not wal: hls queue and the workers would block each other; with the workers ` +
      `stopped, run: sqlite3 ${path} 'PRAGMA journal_mode=WAL'`,
  );
}

/** The file (and its -wal/-shm) must be 0600: it holds every payload. */
export function checkDatabaseMode(path: string): Check {
  const name = 'database mode';
  const files = [path, `${path}-wal`, `${path}-shm`].filter((file, index) => index === 0 || existsSync(file));
  const stats = new Map<string, Stats>(files.map((file) => [file, statSync(file)]));
  const open = files.filter((file) => (stats.get(file)!.mode & 0o077) !== 0);
  const main = stats.get(path)!;
  if (open.length === 0) return ok(name, `${octal(main.mode)}, owner uid ${main.uid}`);
  const modes = open.map((file) => `${basename(file)} ${octal(stats.get(file)!.mode)}`).join(', ');
  return fail(name, `${modes}: group or others may read the stored payloads; run: chmod 600 ${open.join(' ')}`);
}
