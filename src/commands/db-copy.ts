import { existsSync } from 'node:fs';
import { CliError, EXIT } from '../exit-codes.js';
import { copyDatabase, type CopyReport, type TableReport } from '../store/copy-database.js';
import type { RowSource, RowTarget } from '../store/copy-tables.js';
import { isDatabaseUnavailable } from '../store/errors.js';
import { isPostgresUrl } from '../store/open-store.js';
import { databaseRefusal, databaseUnavailable } from './database-errors.js';
import { printJson, printLines, table } from './format.js';

export interface DbCopyFlags {
  from: string;
  to: string;
  resume?: boolean;
  json?: boolean;
  verbose?: boolean;
}

/**
 * `hls db copy --from FILE --to URL`: copies an SQLite database into a PostgreSQL one (ids and times as
 * they are), then compares both sides. Exit 0 when every table matches, 65 when they differ.
 */
export async function runDbCopy(flags: DbCopyFlags): Promise<number> {
  if (isPostgresUrl(flags.from)) {
    throw new CliError(
      '--from must be an SQLite file: hls copies SQLite into PostgreSQL (between PostgreSQL servers use pg_dump)',
      EXIT.USAGE,
    );
  }
  if (!isPostgresUrl(flags.to)) {
    throw new CliError('--to must be a postgres:// URL of a new, empty database (createdb one first)', EXIT.USAGE);
  }
  if (!existsSync(flags.from)) throw new CliError(`${flags.from} does not exist: check --from`, EXIT.NO_INPUT);
  const source = await reporting(flags, () => openSource(flags.from), flags.from);
  try {
    const target = await reporting(flags, () => openTarget(flags.to), flags.to);
    try {
      const showProgress = Boolean(flags.verbose || process.stderr.isTTY);
      const report = await reporting(flags, () =>
        copyDatabase(source, target, {
          resume: Boolean(flags.resume),
          onProgress: showProgress ? progressLine() : undefined,
        }),
      );
      printReport(report, source, target, flags);
      if (!report.match) {
        const differing = report.tables.filter((t) => !t.match).map((t) => t.table);
        throw new CliError(
          `the target differs from the source in ${differing.join(', ')}: do not switch to it; see the table above`,
          EXIT.DATA,
        );
      }
      return EXIT.OK;
    } finally {
      await target.close();
    }
  } finally {
    source.close();
  }
}

/**
 * Database failures as the other commands report them: 66 missing, 78 refused, 74 corrupt, 75 unreachable.
 * Without `database` (during the copy) an SQLite error is the source's, any other the target's.
 */
async function reporting<T>(flags: DbCopyFlags, run: () => Promise<T>, database?: string): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const copying = database === undefined;
    database ??= String((error as { code?: unknown } | null)?.code).startsWith('SQLITE_') ? flags.from : flags.to;
    const refusal = databaseRefusal(error, database);
    if (refusal) throw refusal;
    if (isDatabaseUnavailable(error)) {
      throw databaseUnavailable(
        error,
        database,
        copying
          ? 'a copy cut short leaves nothing in the target: run it again (with --resume if it has rows)'
          : 'try again',
      );
    }
    throw error;
  }
}

async function openSource(path: string): Promise<RowSource> {
  const { openSqliteSnapshot } = await import('../store/sqlite/export-rows.js');
  return openSqliteSnapshot(path);
}

async function openTarget(url: string): Promise<RowTarget> {
  const { openPostgresImport } = await import('../store/postgres/import-rows.js');
  return openPostgresImport(url);
}

function progressLine(): (table: string, done: number, total: number) => void {
  let last = 0;
  return (name, done, total) => {
    const now = Date.now();
    if (done < total && now - last < 1000) return;
    last = now;
    process.stderr.write(`copying ${name}: ${done} of ${total} rows\n`);
  };
}

function printReport(report: CopyReport, source: RowSource, target: RowTarget, flags: DbCopyFlags): void {
  if (flags.json) {
    printJson({
      from: source.location,
      to: target.location,
      resume: Boolean(flags.resume),
      match: report.match,
      tables: report.tables,
    });
    return;
  }
  const events = report.tables.find((t) => t.source.payloads_sha256 !== undefined)!;
  const ledger = report.tables.find((t) => t.source.cost_usd !== undefined)!;
  printLines([
    `copy ${source.location} -> ${target.location}${flags.resume ? ' (resume: only rows the target lacked)' : ''}`,
    ...table(
      ['table', 'source', 'target', 'copied', 'rows sha256 source', 'rows sha256 target', 'result'],
      report.tables.map((t) => [
        t.table,
        t.source.rows,
        t.target.rows,
        t.copied,
        t.source.rows_sha256.slice(0, 16),
        t.target.rows_sha256.slice(0, 16),
        outcome(t),
      ]),
    ),
    `events (id, payload sha256): source ${events.source.payloads_sha256}`,
    `                             target ${events.target.payloads_sha256}`,
    `ledger cost USD: source ${ledger.source.cost_usd}, target ${ledger.target.cost_usd}`,
    report.match
      ? `ok: ${report.tables.length} tables, every source row is in the target with the same values`
      : `DIFFERENT: ${report.tables.filter((t) => !t.match).length} table(s) differ`,
  ]);
}

function outcome(t: TableReport): string {
  const notes = [
    ...(t.missing ? [`${t.missing} missing`] : []),
    ...(t.changed ? [`${t.changed} changed`] : []),
    ...(t.target_only ? [`${t.target_only} only in target`] : []),
  ];
  return `${t.match ? 'ok' : 'DIFFERS'}${notes.length ? ` (${notes.join(', ')})` : ''}`;
}
