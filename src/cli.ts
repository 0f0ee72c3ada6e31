import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { databaseRefusal } from './commands/database-errors.js';
import { RANGES } from './config/ranges.js';
import { parseDuration, parsePositiveInt, type MsRange } from './duration.js';
import { CliError, EXIT } from './exit-codes.js';
import { QUEUE_OPTIONS } from './intake/inputs.js';
import { PAUSE_KINDS } from './metrics/api-limits.js';
import { EVENT_STATUSES } from './store/types.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

/** Wraps the shared parsers so that commander reports a bad value as a usage error. */
const asDuration =
  (what = 'duration', range?: MsRange) =>
  (value: string): number =>
    wrapParser(() => parseDuration(value, what, range));
const asCount =
  (what: string, range?: { min?: number; max?: number }) =>
  (value: string): number =>
    wrapParser(() => parsePositiveInt(value, what, range));

function wrapParser(parse: () => number): number {
  try {
    return parse();
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function buildProgram(run: (action: () => Promise<number> | number) => Promise<void>): Command {
  const program = new Command('hls')
    .description('Hook Line Sinker: a durable queue and AI triage worker for GitHub webhooks')
    .version(VERSION)
    .option('--config <file>', 'YAML config file (default: $HLS_CONFIG)')
    .option('--db <path>', 'SQLite database (default: $HLS_DB, then database.path, then ./hls.db)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`${text.trimEnd()} (see --help)\n`) });

  const queueHelp = QUEUE_OPTIONS.map(
    (o) => `  --${`${o.name} <${o.value}>`.padEnd(22)} ${o.help} (env ${o.env})`,
  ).join('\n');
  program
    .command('queue')
    .description('store one delivery from the relay (one line of output; exit codes in docs/cli.md)')
    .helpOption('-h, --help', 'show this help')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', `\nOptions (flag > environment > headers file):\n${queueHelp}\n`)
    .action((_options, command: Command) =>
      run(async () => {
        const { runQueue } = await import('./commands/queue.js');
        const globals = program.opts<{ db?: string; config?: string }>();
        const inherited = [
          ...(globals.db ? ['--db', globals.db] : []),
          ...(globals.config ? ['--config', globals.config] : []),
        ];
        return runQueue([...inherited, ...command.args]);
      }),
    );

  program
    .command('worker')
    .description('claim and process due events until stopped (SIGTERM drains)')
    .option('--id <name>', 'worker id recorded on leases (default: host:pid)')
    .option(
      '--concurrency <n>',
      'events processed at once (default: queue.concurrency)',
      asCount('concurrency', { max: 64 }),
    )
    .option('--once', 'exit when nothing is due instead of polling')
    .option('--poll <ms>', 'idle poll interval in ms (default: queue.poll_ms)', asCount('poll interval', RANGES.poll))
    .option(
      '--lease <duration>',
      'lease length, renewed by a heartbeat (default: queue.lease_seconds)',
      asDuration('lease', RANGES.lease),
    )
    .option(
      '--grace <duration>',
      'time in-flight events get after SIGTERM (default: queue.grace_seconds)',
      asDuration('grace period', RANGES.grace),
    )
    .option('--dry-run', 'process events but write nothing to GitHub')
    .action((_options, command: Command) =>
      run(async () => {
        const { runWorker } = await import('./commands/worker.js');
        const code = await runWorker(command.optsWithGlobals());
        // Handlers abandoned at the end of the grace period may still hold timers or sockets.
        process.exit(code);
      }),
    );

  program
    .command('stats')
    .description('queue health, throughput and cost')
    .addOption(
      new Option('--format <format>', 'text, json (the document described in docs/cli.md) or prometheus').choices([
        'text',
        'json',
        'prometheus',
      ]),
    )
    .addOption(new Option('--json', 'same as --format json').conflicts('format'))
    .option('--output <file>', 'with --format prometheus: replace this file atomically (node_exporter textfile)')
    .addOption(
      new Option('--since <duration>', 'window for throughput figures, e.g. 1h, 24h, 7d')
        .default(86_400_000, '24h')
        .argParser(asDuration()),
    )
    .addOption(new Option('--days <n>', 'daily rows to show').default(7).argParser(asCount('days', { max: 3650 })))
    .addOption(
      new Option(
        '--check',
        'one Nagios status line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN',
      ).conflicts(['format', 'json', 'output']),
    )
    .option('--threshold <key=warning,critical...>', 'override an alerts: threshold for --check (repeatable)')
    .action((_options, command: Command) =>
      run(async () => {
        const { runStats } = await import('./commands/stats.js');
        return runStats(command.optsWithGlobals());
      }),
    );

  program
    .command('report')
    .description('the last days as one self-contained HTML page: volume, cost against the budget, timing, limits')
    .addOption(
      new Option('--days <n>', 'UTC days to show, today included').default(14).argParser(asCount('days', { max: 366 })),
    )
    .option('--output <file>', 'replace this file atomically instead of printing')
    .option('--json', 'the data the page draws, as JSON')
    .addHelpText(
      'after',
      '\nExit: 0 done, 64 usage, 66 no database, 73 cannot write --output, 75 database busy, 78 config.\n',
    )
    .action((_options, command: Command) =>
      run(async () => {
        const { runReport } = await import('./commands/report.js');
        return runReport(command.optsWithGlobals());
      }),
    );

  program
    .command('replay')
    .description('re-queue events (default: all failed ones) with fresh attempts')
    .argument('[refs...]', 'event ids or delivery ids')
    .addOption(
      new Option('--status <status>', 'only events in this status').choices(
        EVENT_STATUSES.filter((s) => s !== 'processing'),
      ),
    )
    .option('--since <duration>', 'only events received within this window', asDuration())
    .option('--repo <owner/repo>', 'only events of this repository')
    .option('--event <type>', 'only events of this type')
    .option('--dry-run', 'list what would be re-queued')
    .option('--json', 'print the result as JSON')
    .action((refs: string[], _options, command: Command) =>
      run(async () => {
        const { runReplay } = await import('./commands/replay.js');
        return runReplay(refs, command.optsWithGlobals());
      }),
    );

  program
    .command('resume')
    .description('lift a rate-limit pause or the Anthropic spend-limit stop now; the events it parked become due')
    .addArgument(
      new Argument('<kind>', 'the kind of pause to lift, as hls stats names it').choices([...PAUSE_KINDS, 'all']),
    )
    .option('--note <text>', 'why, kept in the pause history that hls stats shows')
    .option('--dry-run', 'print what would be resumed and change nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nKinds: github (a GitHub rate-limit answer), anthropic (an Anthropic 429/529 with retry-after),\n' +
        'anthropic_spend (the Anthropic spend limit), all.\n' +
        'Each lifted pause is recorded (who, when, --note) and listed by `hls stats` under "resumed by hand".\n' +
        'If the limit is still in force, the next request is refused again and the pause comes back.\n' +
        'Exit: 0 done (also when nothing was paused), 64 usage, 66 no database, 75 database busy, 78 config.\n',
    )
    .action((kind: string, _options, command: Command) =>
      run(async () => {
        const { runResume } = await import('./commands/resume.js');
        return runResume(kind, command.optsWithGlobals());
      }),
    );

  program
    .command('show')
    .description('one event: status history, last error, payload summary')
    .argument('<ref>', 'event id or delivery id')
    .option('--json', 'print as JSON')
    .option('--payload', 'print the raw stored body, byte for byte')
    .action((ref: string, _options, command: Command) =>
      run(async () => {
        const { runShow } = await import('./commands/show.js');
        return runShow(ref, command.optsWithGlobals());
      }),
    );

  // One command for the search and `similar index`: a subcommand could not take --repo after it, the
  // search's own --repo being read first (commander parses a parent's options before its subcommand's).
  program
    .command('similar')
    .usage(
      'ID|DELIVERY [--limit N] [--json]\n' +
        '       hls similar --repo owner/repo --text "…" [--limit N] [--json]\n' +
        '       hls similar index --repo owner/repo [--restart] [--json]',
    )
    .description(
      "issues and pull requests like an event's, or like a text, from the related-issue index; " +
        "`index` fills the index with a repository's existing ones (resumable: run it again to continue)",
    )
    .argument('[ref]', 'event id or delivery id (its issue or pull request, itself left out), or `index`')
    .option('--repo <owner/repo>', 'the repository to search (with --text) or to index (a configured one)')
    .option('--text <text>', "search for this text instead of an event's")
    .option('--limit <n>', 'matches at most (default: similar.max)', asCount('limit', { max: 100 }))
    .option('--restart', 'index: start again from the first page')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok; 64 usage or an unconfigured repository; 65 the event is not about an issue or pull ' +
        'request; 66 no such event, or no database; index only: 69 GitHub failed, 75 rate limited (run it ' +
        'again to continue), 78 no GitHub token.\n',
    )
    .action((ref: string | undefined, _options, command: Command) =>
      run(async () => {
        const { runSimilar } = await import('./commands/similar.js');
        return runSimilar(ref, command.optsWithGlobals());
      }),
    );

  program
    .command('labels')
    .description('manage the labels of the configured repositories')
    .command('sync')
    .description('create or update the labels of repositories[].labels.definitions on GitHub (never deletes)')
    .option('--repo <owner/repo>', 'only this configured repository')
    .option('--dry-run', 'print what would change and write nothing')
    .option('--json', 'print the result as JSON')
    .action((_options, command: Command) =>
      run(async () => {
        const { runLabelsSync } = await import('./commands/labels.js');
        return runLabelsSync(command.optsWithGlobals());
      }),
    );

  program
    .command('config')
    .description('what hls runs with: the config as it applies to a repository')
    .command('show')
    .description(
      "a repository's effective settings: the operator's config narrowed by the repository's .github/hls.yml",
    )
    .requiredOption('--repo <owner/repo>', 'a repository of the config (repositories[].name)')
    .option('--json', 'print { repository, file, settings: { key: { value, source } } } as JSON')
    .addHelpText(
      'after',
      '\nEach setting says where it came from: operator config, default, or .github/hls.yml@<sha7>; then the\n' +
        "file's ignored keys with their reasons, or why the file is invalid. The file is asked of GitHub again\n" +
        'once older than github.settings_file_ttl_seconds (a 304 costs no rate limit); without a GitHub token\n' +
        'or App no file is read.\n' +
        'Exit: 0 shown, 64 usage or a repository not in the config, 66 no database, 75 database busy, 78 config.\n',
    )
    .action((_options, command: Command) =>
      run(async () => {
        const { runConfigShow } = await import('./commands/config-show.js');
        return runConfigShow(command.optsWithGlobals());
      }),
    );

  program
    .command('recover')
    .description("redeliver, from the webhooks' GitHub delivery logs, the deliveries missing from the database")
    .addOption(
      new Option('--since <duration>', 'how far back to read the delivery logs (GitHub keeps 3 days)')
        .default(86_400_000, '24h')
        .argParser(asDuration()),
    )
    .option(
      '--repo <owner/repo>',
      "this repository's webhook (default: the GitHub App's webhook with github.app, else every configured repository)",
    )
    .option('--org <org>', "this organisation's webhook")
    .option('--app', "the GitHub App's own webhook (needs github.app)")
    .option('--hook-id <id>', 'the webhook to read (needs --repo or --org)', asCount('hook id'))
    .option('--dry-run', 'print what would be redelivered and redeliver nothing')
    .option('--json', 'print the result as JSON')
    .addOption(
      new Option('--pace-ms <ms>', 'minimum time between two redelivery requests')
        .default(1000)
        .argParser(asCount('pace in ms', RANGES.redeliveryPace))
        .hideHelp(),
    )
    .action((_options, command: Command) =>
      run(async () => {
        const { runRecover } = await import('./commands/recover.js');
        return runRecover(command.optsWithGlobals());
      }),
    );

  program
    .command('doctor')
    .description(
      'check the config, database, GitHub token, Anthropic key, relay hooks file and nginx allowlist (exit 1 if any fails)',
    )
    .option('--hooks <file>', "also check the relay's hooks file, e.g. /etc/webhook/hooks.json")
    .option('--json', 'print { ok, checks: [{ name, status, detail }] }')
    .action((_options, command: Command) =>
      run(async () => {
        const { runDoctor } = await import('./commands/doctor.js');
        return runDoctor(command.optsWithGlobals());
      }),
    );

  program
    .command('allowlist')
    .description("write GitHub's webhook source ranges (GET /meta) as nginx allow lines, only when they changed")
    .option('--output <file>', 'the nginx include to replace atomically (default: front_door.allowlist_file)')
    .option('--dry-run', 'print what would be written and write nothing')
    .option('--json', 'print { file, source, changed, written, ranges } as JSON')
    .addHelpText(
      'after',
      '\nExit: 0 written (reload nginx), 2 unchanged (nothing to do), 64 usage, 65 implausible answer (old file\n' +
        'kept), 69 GitHub unreachable (old file kept), 73 cannot write the file, 78 config.\n' +
        'A timer can run: hls allowlist --output FILE && systemctl reload nginx\n',
    )
    .action((_options, command: Command) =>
      run(async () => {
        const { runAllowlist } = await import('./commands/allowlist.js');
        return runAllowlist(command.optsWithGlobals());
      }),
    );

  program
    .command('prune')
    .description('drop payloads (and rows) of old completed and skipped events; reclaim space')
    .option('--older-than <duration>', 'retention, e.g. 30d (default: prune.older_than_days)', asDuration())
    .option('--delete-rows', 'also delete the rows no ledger entry refers to (default: prune.delete_rows)')
    .option('--dry-run', 'print what would be dropped')
    .option('--json', 'print the result as JSON')
    .action((_options, command: Command) =>
      run(async () => {
        const { runPrune } = await import('./commands/prune.js');
        return runPrune(command.optsWithGlobals());
      }),
    );

  program
    .command('render')
    .description('print the exact prompt the worker would send to Claude for an event')
    .argument('<ref>', 'event id or delivery id')
    .option('--json', 'print model, template, system and user prompt as JSON')
    .action((ref: string, _options, command: Command) =>
      run(async () => {
        const { runRender } = await import('./commands/render.js');
        return runRender(ref, command.optsWithGlobals());
      }),
    );

  program
    .command('db')
    .description('move the queue between databases')
    .command('copy')
    .description('copy an SQLite database into a new PostgreSQL one, then compare both sides')
    .requiredOption('--from <file>', 'the SQLite database to copy (read in one snapshot; never changed)')
    .requiredOption('--to <url>', 'postgres:// URL of the target: migrated first, must be empty unless --resume')
    .option('--resume', 'copy only the rows the target lacks (the tail queued since an earlier copy)')
    .option('--json', 'print the comparison as JSON')
    .option('--verbose', 'print progress to stderr (always on a terminal)')
    .addHelpText(
      'after',
      '\nPrints per table the rows and checksums of both sides; see docs/database-copy.md for the cut-over.\n' +
        'Exit: 0 copied and equal, 65 the target differs from the source, 64 usage, 66 no source or target\n' +
        "database, 74 corrupt source, 75 target unreachable (nothing copied), 78 source not hls's or target\n" +
        "not empty without --resume (or not hls's).\n",
    )
    .action((_options, command: Command) =>
      run(async () => {
        const { runDbCopy } = await import('./commands/db-copy.js');
        return runDbCopy(command.opts());
      }),
    );

  return program;
}

/**
 * A reader that stops early (`hls show --payload | head`) closes the pipe: the output was wanted only
 * that far, so hls stops quietly with 0 (docs/cli.md, "Exit codes").
 */
function stopQuietlyWhenReaderLeaves(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.OK);
    process.stderr.write(`error: cannot write the output: ${error.code ?? error.message}\n`);
    process.exit(EXIT.FAILURE);
  });
}

/** Runs the CLI and returns the exit code; every failure is one `error:` line on stderr. */
export async function main(argv: string[]): Promise<number> {
  stopQuietlyWhenReaderLeaves();
  let exitCode: number = EXIT.OK;
  const run = async (action: () => Promise<number> | number): Promise<void> => {
    exitCode = await action();
  };
  try {
    await buildProgram(run).parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // `hls` alone prints the help and counts as a usage error; an explicit --help does not.
      const done = ['commander.helpDisplayed', 'commander.version'].includes(error.code);
      return done ? EXIT.OK : EXIT.USAGE;
    }
    const failure = error instanceof CliError ? error : databaseRefusal(error);
    if (failure) {
      process.stderr.write(`error: ${failure.message}\n`);
      return failure.exitCode;
    }
    process.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.FAILURE;
  }
  return exitCode;
}
