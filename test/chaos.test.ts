/**
 * The chaos proof: 200 issue events (200 threads) processed by 3 `hls worker` processes while a chaos
 * monkey SIGKILLs a random worker every 300–700 ms and starts a replacement under a new id. However
 * often a worker dies half-way (during the model call, between the ledger row and GitHub, in the middle
 * of a comment POST), every event must end completed exactly once, every thread must get exactly one
 * bot comment, and the model calls paid twice must be explained by the attempts the kills orphaned.
 *
 * The kill schedule comes from a seeded PRNG: CHAOS_SEED=<n> replays a run's schedule (the timing of
 * the workers themselves still varies).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic, type MessagesRequest } from '../src/simulators/anthropic.js';
import { startFakeGitHub, type FakeGitHub } from '../src/simulators/github.js';
import { finished, query, ROOT, startHls, waitFor, type RunResult } from './helpers/hls.js';
import { writeGitHubConfig } from './helpers/github-config.js';
import { issuePayload } from './helpers/payloads.js';
import { LABELS, REPO, seedIssue } from './helpers/pipeline.js';
import { seededRandom } from './helpers/random.js';
import { issueNumberOf, threadComments } from './helpers/tally.js';

const EVENTS = 200;
const WORKERS = 3;
// One event in flight per worker: a SIGKILL then cuts at most one paid call, which makes the issue's
// bound (extra paid calls ≤ kills) hold by construction rather than by luck.
const CONCURRENCY = 1;
const MAX_KILLS = 40;
const CHAOS_MS = 60_000;
const BOT = 'hls-bot';

interface Worker {
  id: string;
  child: ReturnType<typeof startHls>;
  done: Promise<RunResult>;
  killed: boolean;
  stderr: () => string;
}

let fakes: Array<FakeAnthropic | FakeGitHub> = [];
const started: Worker[] = [];
const children: ReturnType<typeof startHls>[] = [];
afterEach(async () => {
  // A failed run may leave workers behind: stop only the processes this file started.
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.splice(0);
  await Promise.all(fakes.map((fake) => fake.close()));
  fakes = [];
});

/** A module of the build the workers run (dist/, from `npm run build`), so both sides share one schema. */
const built = (path: string): Promise<any> => import(pathToFileURL(join(ROOT, 'dist', path)).href);

/**
 * The 200 deliveries, one issue each, inserted with the store's own enqueue (what
 * `hls queue` does per delivery; spawning it 200 times would cost ~15 s of this test's budget and is
 * covered by queue.test.ts). The issues exist in the fake GitHub too. Returns event id → issue number.
 */
async function seed(db: string, github: FakeGitHub): Promise<Map<number, number>> {
  const { openStore } = await built('store/open-store.js');
  const { describeEvent } = await built('intake/describe.js');
  const issueOfEvent = new Map<number, number>();
  const store = await openStore(db, { create: true });
  try {
    for (let number = 1; number <= EVENTS; number++) {
      const payload = issuePayload(number, REPO);
      seedIssue(github, REPO, payload);
      const raw = Buffer.from(JSON.stringify(payload));
      const id: number = await store.queue.enqueue({
        deliveryId: `chaos-${process.pid}-${number}`,
        eventType: 'issues',
        ...describeEvent('issues', payload),
        hookId: null,
        payload: raw,
        payloadSha256: createHash('sha256').update(raw).digest('hex'),
        signature: null,
      });
      issueOfEvent.set(id, number);
    }
  } finally {
    await store.close();
  }
  return issueOfEvent;
}

describe('chaos', () => {
  it('200 events under 3 workers SIGKILLed at random: each completed once, one comment per thread', async () => {
    const seedValue = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seedValue);
    const anthropic = await startFakeAnthropic({ latencyMs: 150 });
    const github = await startFakeGitHub({ latencyMs: 20, rateLimit: 1_000_000 });
    fakes = [anthropic, github];
    github.repo(REPO).labels.push(...LABELS);

    const { db, config } = writeGitHubConfig('hls-chaos-', github.url, {
      claude: { base_url: anthropic.url, model: 'claude-sonnet-5-5', max_tokens: 1000 },
      repositories: [
        {
          name: REPO,
          events: ['issues'],
          labels: { allowed: ['bug'], difficulty: { moderate: 'difficulty: moderate' } },
        },
      ],
      filters: { debounce_seconds: 0 },
      queue: {
        lease_seconds: 2,
        poll_ms: 50,
        backoff_base_seconds: 0.1,
        backoff_max_seconds: 1,
        max_attempts: 20,
        grace_seconds: 10,
      },
      logging: { format: 'json', level: 'info' },
    });
    const env = { HLS_CONFIG: config, ANTHROPIC_API_KEY: 'sk-ant-test', GITHUB_TOKEN: 'ghp_test' };
    const issueOfEvent = await seed(db, github);
    expect(issueOfEvent.size).toBe(EVENTS);

    let generation = 0;
    let stopping = false;
    const alive = new Set<Worker>();
    const unexpectedExits: string[] = [];
    const startWorker = (): Worker => {
      const id = `chaos-${++generation}`;
      const child = startHls(['worker', '--id', id, '--concurrency', String(CONCURRENCY), '--lease', '2s'], { env });
      children.push(child);
      let tail = '';
      child.stderr!.on('data', (chunk: string) => (tail = (tail + chunk).slice(-4000)));
      const worker: Worker = { id, child, done: finished(child), killed: false, stderr: () => tail };
      worker.done.then((result) => {
        alive.delete(worker);
        if (!worker.killed && !stopping)
          unexpectedExits.push(
            `${id}: exit ${result.code} ${result.signal ?? ''} ${result.stderr.trim().split('\n').pop()}`,
          );
      });
      alive.add(worker);
      started.push(worker);
      return worker;
    };
    onTestFailed(() => {
      console.log(`chaos: failed with CHAOS_SEED=${seedValue}`);
      for (const worker of started.slice(-WORKERS)) console.log(`--- ${worker.id}\n${worker.stderr()}`);
    });

    const completedCount = () =>
      query<{ n: number }>(db, "SELECT count(*) AS n FROM webhook_events WHERE status = 'completed'")[0]!.n;

    const begin = Date.now();
    for (let i = 0; i < WORKERS; i++) startWorker();

    // The chaos monkey: kill one live worker at random, start its replacement at once.
    const killed = new Set<string>();
    while (killed.size < MAX_KILLS && Date.now() - begin < CHAOS_MS && completedCount() < EVENTS) {
      await sleep(300 + Math.floor(random() * 401));
      if (completedCount() >= EVENTS) break;
      const candidates = [...alive];
      const victim = candidates[Math.floor(random() * candidates.length)];
      if (!victim) continue;
      victim.killed = true;
      killed.add(victim.id);
      victim.child.kill('SIGKILL');
      alive.delete(victim);
      startWorker();
    }
    const kills = killed.size;

    // The survivors finish the rest, including the events the last victims held (after their lease).
    await waitFor(() => completedCount() >= EVENTS || unexpectedExits.length > 0, 60_000, 'all events completed');
    const seconds = (Date.now() - begin) / 1000;
    stopping = true;
    const survivors = [...alive];
    for (const worker of survivors) worker.child.kill('SIGTERM');
    const results = await Promise.all(survivors.map((worker) => worker.done));
    await Promise.all(started.map((worker) => worker.done)); // every victim is gone too

    expect(unexpectedExits).toEqual([]);
    expect(survivors).toHaveLength(WORKERS);
    for (const result of results) expect(result).toMatchObject({ code: 0, signal: null });

    // Every event completed, and reached `completed` exactly once in its history.
    const statuses = query<{ status: string; n: number }>(
      db,
      'SELECT status, count(*) AS n FROM webhook_events GROUP BY status',
    );
    expect(statuses).toEqual([{ status: 'completed', n: EVENTS }]);
    const completions = query<{ event_id: number; n: number }>(
      db,
      "SELECT event_id, count(*) AS n FROM event_history WHERE to_status = 'completed' GROUP BY event_id",
    );
    expect(completions).toHaveLength(EVENTS);
    expect(completions.filter((row) => row.n !== 1)).toEqual([]);

    // Orphaned attempts: a lease that expired goes back to `retry` with error_class lease_expired, in the
    // name of the worker that held it. Only a killed worker stops renewing its leases, and it held at most
    // CONCURRENCY events when it died.
    const expiries = query<{ event_id: number; worker: string; to_status: string }>(
      db,
      "SELECT event_id, worker, to_status FROM event_history WHERE error_class = 'lease_expired' ORDER BY id",
    );
    const leaseExpired = expiries.length;
    expect(expiries.filter((row) => row.to_status !== 'retry')).toEqual([]);
    expect(expiries.filter((row) => !killed.has(row.worker))).toEqual([]); // no live worker lost a lease
    expect(leaseExpired).toBeLessThanOrEqual(CONCURRENCY * kills);

    // Model calls. A call is paid once the API has received it, and its ledger row (`sent`) is written
    // before it is sent. A victim's call is either
    //  (a) answered and its row settled: the next attempt resumes from that checkpoint and does not call
    //      again; or
    //  (b) cut by the kill: the rescue settles its row as `unsettled` at its worst case, and the next
    //      attempt (which starts only after the victim is dead and its lease expired) pays again.
    // So each event has exactly one `ok` row; the calls beyond one per event are the (b) calls, each on
    // record as `unsettled` and belonging to an attempt that a kill orphaned (a kill between the row and
    // the request leaves an `unsettled` row for a call never sent). A victim holds at most CONCURRENCY
    // (1) event, so extra calls ≤ unsettled rows ≤ orphaned attempts ≤ kills.
    const calls = anthropic.messageCalls();
    const modelCalls = calls.length;
    const extraCalls = modelCalls - EVENTS;
    const callsPerIssue = new Map<number, number>();
    for (const call of calls) {
      const number = issueNumberOf(call.body as MessagesRequest, REPO);
      callsPerIssue.set(number, (callsPerIssue.get(number) ?? 0) + 1);
    }
    expect(callsPerIssue.get(-1)).toBeUndefined();
    const expiriesPerIssue = new Map<number, number>();
    for (const row of expiries) {
      const number = issueOfEvent.get(row.event_id)!;
      expiriesPerIssue.set(number, (expiriesPerIssue.get(number) ?? 0) + 1);
    }
    const unexplained: string[] = [];
    for (let number = 1; number <= EVENTS; number++) {
      const n = callsPerIssue.get(number) ?? 0;
      if (n < 1 || n - 1 > (expiriesPerIssue.get(number) ?? 0))
        unexplained.push(`#${number}: ${n} calls, ${expiriesPerIssue.get(number) ?? 0} orphaned attempts`);
    }
    expect(unexplained).toEqual([]);
    expect(extraCalls).toBeGreaterThanOrEqual(0);
    expect(extraCalls).toBeLessThanOrEqual(leaseExpired);
    expect(extraCalls).toBeLessThanOrEqual(kills);

    const ledger = query<{ webhook_id: number; outcome: string; n: number }>(
      db,
      `SELECT webhook_id, outcome, count(*) AS n FROM claude_analyses WHERE outcome != 'unsettled'
        GROUP BY webhook_id, outcome`,
    );
    expect(ledger).toHaveLength(EVENTS);
    expect(ledger.filter((row) => row.outcome !== 'ok' || row.n !== 1)).toEqual([]);
    // The (b) calls: paid, and on record at their worst case.
    const unsettled = query<{ webhook_id: number; attempt: number; cost: number; reserved: number }>(
      db,
      `SELECT webhook_id, attempt, claude_cost_usd AS cost, reserved_usd AS reserved FROM claude_analyses
        WHERE outcome = 'unsettled'`,
    );
    expect(unsettled.length).toBeGreaterThanOrEqual(extraCalls);
    expect(unsettled.length).toBeLessThanOrEqual(leaseExpired);
    expect(unsettled.filter((row) => !(row.reserved > 0 && row.cost === row.reserved))).toEqual([]);
    expect(query(db, `SELECT count(*) AS n FROM claude_analyses WHERE outcome = 'sent'`)).toEqual([{ n: 0 }]);
    const withoutActions = query<{ n: number }>(
      db,
      `SELECT count(*) AS n FROM claude_analyses WHERE outcome = 'ok' AND github_actions_json IS NULL`,
    )[0]!.n;
    expect(withoutActions).toBe(0);

    // GitHub: exactly one bot comment on each of the 200 threads, with its marker; nothing else posted.
    const { comments, duplicates, wrong } = threadComments(github, REPO, BOT);
    expect(wrong).toEqual([]);
    expect(github.repo(REPO).issues.size).toBe(EVENTS);
    expect(comments).toBe(EVENTS);
    expect(duplicates).toBe(0);
    // The stored comment ids (a victim killed between the POST and storing the id leaves none: the next
    // attempt finds the comment by its marker) all name the thread's one comment.
    const stored = query<{ thread_key: string; comment_id: number }>(db, 'SELECT * FROM thread_comments');
    for (const row of stored) {
      const number = Number(row.thread_key.split('#')[1]);
      expect(github.repo(REPO).issues.get(number)!.comments[0]!.id, row.thread_key).toBe(row.comment_id);
    }

    console.log(
      `chaos: events=${EVENTS} workers=${WORKERS} kills=${kills} model_calls=${modelCalls} extra_calls=${extraCalls} ` +
        `unsettled=${unsettled.length} comments=${comments} duplicates=${duplicates} lease_expired=${leaseExpired} ` +
        `seconds=${seconds.toFixed(1)}`,
    );
  }, 150_000);
});
