#!/usr/bin/env node
// Events per second of one `hls worker --once` process through the whole triage pipeline (claim →
// filter → context → prompt → Claude → ledger → sticky comment + labels → finish) against zero-latency
// loopback fakes of Anthropic and GitHub, with write pacing off (github.pacing.enabled: false). Paired
// in the same run with a baseline: the same number of events through a worker whose `issues` handler
// is a no-op module, so the difference is the pipeline's own cost per event. Both times are wall
// times of the worker process from spawn to exit (start-up included, amortised over the events;
// startup_ms is the same worker on an empty queue).
// Events are inserted straight into the database (the bench measures the worker, not `hls queue`).
// The fakes are TypeScript (src/simulators/*.ts): esbuild bundles them to a temp .mjs first.
// Usage: node bench/pipeline.mjs [--events N] [--concurrency C]   (defaults 300 and 4; needs `npm run build`)
// Exits 1 when a check fails: an event not completed, or model calls / comments not one per event.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, botComments, loadFakes, runProblems, runWorker, seedIssues, withStore, writeRunConfig } from './lib.mjs';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '4' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write('usage: node bench/pipeline.mjs [--events N] [--concurrency C]\n');
  process.exit(0);
}
const events = Number(values.events);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(events) || events < 1) {
  process.stderr.write(`pipeline: --events must be a positive integer, got "${values.events}"\n`);
  process.exit(64);
}
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
  process.stderr.write(`pipeline: --concurrency must be an integer from 1 to 64, got "${values.concurrency}"\n`);
  process.exit(64);
}

const dir = mkdtempSync(join(tmpdir(), 'hls-bench-pipeline-'));
let fakes = [];
try {
  const { startFakeAnthropic, startFakeGitHub } = await loadFakes(dir);
  const anthropic = await startFakeAnthropic({ latencyMs: 0 });
  const github = await startFakeGitHub({ latencyMs: 0 });
  fakes = [anthropic, github];
  github
    .repo(REPO)
    .labels.push(
      { name: 'bug', color: 'd73a4a', description: 'Something is broken' },
      { name: 'difficulty: moderate', color: 'fbca04', description: null },
    );

  const noopHandler = join(dir, 'noop-handler.mjs');
  writeFileSync(noopHandler, 'export default async function handle() {}\n');

  // Start-up alone (an empty queue), then the baseline, then the pipeline.
  const empty = setup('empty', { handlers: { issues: noopHandler } });
  const startupRun = await runSetup(empty);
  const noop = setup('noop', { handlers: { issues: noopHandler } });
  await seedIssues(noop.db, { events, prefix: 'noop' });
  const noopRun = await runSetup(noop);

  const triage = setup('triage', {});
  await seedIssues(triage.db, { events, prefix: 'triage', github });
  const callsBefore = anthropic.messageCalls().length;
  const triageRun = await runSetup(triage);

  const modelCalls = anthropic.messageCalls().length - callsBefore;
  const comments = botComments(github);

  const ledger = await ledgerTotals(triage.db);
  const perSecond = (run) => (events / (run.ms / 1000)).toFixed(1);
  const perEvent = (run) => (run.ms / events).toFixed(2);
  process.stdout.write(
    `pipeline: events=${events} concurrency=${concurrency} ` +
      `triage_events_per_s=${perSecond(triageRun)} noop_events_per_s=${perSecond(noopRun)} ` +
      `per_event_ms_triage=${perEvent(triageRun)} per_event_ms_noop=${perEvent(noopRun)} ` +
      `model_calls=${modelCalls} comments=${comments} startup_ms=${startupRun.ms.toFixed(0)}\n`,
  );
  process.stdout.write(
    `pipeline ledger: model=claude-sonnet-5-5 input_tokens=${ledger.input} output_tokens=${ledger.output} ` +
      `cache_write_tokens=${ledger.write} cache_read_tokens=${ledger.read} recorded_usd=${ledger.recorded.toFixed(6)} ` +
      `at_published_prices_usd=${ledger.expected.toFixed(6)} (2/2.50/0.20/10 per Mtok input/5m write/read/output)\n`,
  );

  const problems = [
    ...(await runProblems('empty', empty.db, [startupRun])),
    ...(await runProblems('noop', noop.db, [noopRun])),
    ...(await runProblems('triage', triage.db, [triageRun])),
    ...(modelCalls === events ? [] : [`triage: ${modelCalls} model calls for ${events} events`]),
    ...(comments === events ? [] : [`triage: ${comments} bot comments for ${events} events`]),
  ];
  for (const problem of problems) process.stderr.write(`pipeline: FAIL ${problem}\n`);
  process.exitCode = problems.length > 0 ? 1 : 0;
} finally {
  await Promise.all(fakes.map((fake) => fake.close()));
  rmSync(dir, { recursive: true, force: true });
}

/** A database and config for one worker run; `extra` is merged into the config's top level. */
function setup(name, extra) {
  const [anthropic, github] = fakes;
  const files = writeRunConfig(dir, name, {
    anthropic,
    github,
    labels: { allowed: ['bug'], difficulty: { moderate: 'difficulty: moderate' } },
    queue: { poll_ms: 50, concurrency },
    level: 'info',
    extra,
  });
  return { name, ...files };
}

/** Runs `hls worker --once` on one setup to the end. */
function runSetup(target) {
  return runWorker(target.config, `bench-${target.name}`, concurrency);
}

/** What the ledger recorded (settled model calls), and the same tokens priced by hand at the published Sonnet prices. */
async function ledgerTotals(target) {
  const rows = await withStore(target, async (store) => (await store.admin.collectMetrics([])).ledger);
  const sum = (field) => rows.reduce((total, row) => total + row[field], 0);
  const [input, output, write, read] = ['input_tokens', 'output_tokens', 'cache_write_tokens', 'cache_read_tokens'].map(
    sum,
  );
  return {
    input,
    output,
    write,
    read,
    recorded: sum('cost_usd'),
    expected: (input * 2 + write * 2.5 + read * 0.2 + output * 10) / 1e6,
  };
}
