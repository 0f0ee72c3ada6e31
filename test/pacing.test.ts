/**
 * The proof that every `hls worker` process together paces GitHub's content-creating requests (POST,
 * PATCH, PUT, DELETE) of one token through the shared database: the fake GitHub enforces the limits of `github.pacing`
 * the way GitHub enforces its secondary limits, with the same numbers as the workers' config (GitHub's
 * defaults scaled down in time, so that a burst fills the windows in seconds). Four workers working off
 * a burst must never be refused, and must still use most of the allowance. A secondary-limit answer
 * one worker gets pauses them all.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { mapConcurrently } from './helpers/concurrency.js';
import { finished, query, startHls, waitFor, type RunResult } from './helpers/hls.js';
import { queueIssueEvent, REPO, stage, type Stage } from './helpers/pipeline.js';

const WORKERS = 4;
/**
 * github.pacing: at least 200 ms apart, at most 12 per 3 s and 30 per 12 s (GitHub: 1 s, 80/min, 500/h).
 * The burst test checks the interval on the slots the processes took (github_writes), and the windows on
 * the writes' arrival at the fake GitHub: between a slot and its request's arrival a loaded machine may
 * spend 150 ms, so two arrivals can be closer than their slots (51 ms apart once in CI, slots 200 apart).
 */
const PACING = {
  enabled: true,
  min_interval_seconds: 0.2,
  windows: [
    { max: 12, seconds: 3 },
    { max: 30, seconds: 12 },
  ],
};
/**
 * The fake GitHub enforces the windows, as GitHub enforces its secondary limits. Not the interval: GitHub's
 * "1 s between writes" is guidance it does not refuse on, and scaled to 200 ms the slot-to-arrival delay of
 * a loaded machine is a real part of it (the burst test saw two writes arrive 152 ms apart in CI on
 * PostgreSQL). Such a refusal pauses every worker for a second, and the retry-after test then read that
 * earlier pause as the scripted one's (it ended 714 ms before the scripted 403 arrived). hls keeps at
 * least 0.5 s under each window.
 */
const WRITE_LIMITS = {
  minIntervalMs: 0,
  windows: PACING.windows.map(({ max, seconds }) => ({ max, ms: seconds * 1000 })),
};
/** The pause of GitHub requests with the stage's token, in api_pauses. */
const TOKEN_SHA256 = createHash('sha256').update('ghp_test').digest('hex');
const SCOPE = `github:${TOKEN_SHA256}`;
/** A request sent just before a pause was recorded may still be on its way. */
const IN_FLIGHT_MS = 250;

let s: Stage | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  // A failed test may leave workers behind: stop only the ones this file started.
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await s?.close();
  s = undefined;
});

async function pacedStage(): Promise<Stage> {
  return stage({ github: { writeLimits: WRITE_LIMITS }, config: { github: { pacing: PACING } } });
}

/**
 * Issues 1..n, created in the fake and queued as `issues.opened` deliveries, four `hls queue` at a time:
 * twenty processes connecting at once to a new PostgreSQL database on a loaded machine once took longer
 * than the queue's deadline, and storing is not what this file tests.
 */
async function queueIssues(st: Stage, n: number): Promise<number[]> {
  const numbers = Array.from({ length: n }, (_, i) => i + 1);
  return mapConcurrently(numbers, 4, (number) => queueIssueEvent(st, number));
}

/** Runs WORKERS long-running workers until no event is left to do, then stops them (SIGTERM). */
async function work(st: Stage, during: () => Promise<void> = async () => {}): Promise<RunResult[]> {
  const done = Array.from({ length: WORKERS }, (_, i) => {
    const child = startHls(['worker', '--id', `pacer-${i + 1}`, '--concurrency', '2'], { env: st.env });
    children.push(child);
    return finished(child);
  });
  await during();
  await waitFor(
    () =>
      query<{ n: number }>(
        st.db,
        "SELECT count(*) AS n FROM webhook_events WHERE status NOT IN ('completed', 'skipped', 'failed')",
      )[0]!.n === 0,
    60_000,
    'every event to be done',
  );
  for (const child of children) child.kill('SIGTERM');
  return Promise.all(done);
}

const statuses = (db: string) =>
  query<{ status: string; n: number }>(db, 'SELECT status, count(*) AS n FROM webhook_events GROUP BY status');

/** Issues of REPO that do not have exactly one comment, with their count. */
function notOneComment(st: Stage): string[] {
  return [...st.github.repo(REPO).issues.values()]
    .filter((issue) => issue.comments.length !== 1)
    .map((issue) => `#${issue.number}: ${issue.comments.length} comments`);
}

/** The most of `times` (ascending) within any trailing `ms` that ends at one of them. */
function busiest(times: number[], ms: number): number {
  return Math.max(0, ...times.map((t) => times.filter((at) => at > t - ms && at <= t).length));
}

describe('GitHub write pacing shared by every worker process', () => {
  it('4 workers and a burst of events: no secondary-limit answer, pacing close to the allowance', async () => {
    const events = 20; // 40 writes (a comment and the labels each): more than the longer window allows
    s = await pacedStage();
    await queueIssues(s, events);

    // A slot is deleted once it is older than the longest window (12 s): read them while they come.
    const slots = new Set<number>();
    const readSlots = () => {
      const rows = query<{ sent_at: number }>(
        s!.db,
        'SELECT sent_at FROM github_writes WHERE key_sha256 = ?',
        TOKEN_SHA256,
      );
      for (const { sent_at } of rows) slots.add(sent_at);
    };
    const reading = setInterval(readSlots, 1000);
    const results = await work(s).finally(() => clearInterval(reading));
    readSlots();

    for (const result of results) expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(statuses(s.db)).toEqual([{ status: 'completed', n: events }]);
    expect(notOneComment(s)).toEqual([]);
    const writes = s.github.writes();
    const timeline = writes.map((w) => `${w.status}@${w.at - writes[0]!.at}`).join(' ');
    expect(s.github.secondaryLimitAnswers, timeline).toBe(0);
    expect(writes.filter((w) => w.status >= 300)).toEqual([]);
    expect(writes).toHaveLength(2 * events);

    const slotTimes = [...slots].sort((a, b) => a - b);
    expect(slotTimes).toHaveLength(writes.length);
    const slotGaps = slotTimes.slice(1).map((t, i) => t - slotTimes[i]!);
    expect(Math.min(...slotGaps)).toBeGreaterThanOrEqual(PACING.min_interval_seconds * 1000);
    const times = writes.map((w) => w.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    const figures = WRITE_LIMITS.windows.map(({ max, ms }) => ({ max, ms, busiest: busiest(times, ms) }));
    for (const { max, ms, busiest: most } of figures) {
      expect(most, `writes in the busiest ${ms} ms`).toBeLessThanOrEqual(max);
      expect(most, `writes in the busiest ${ms} ms`).toBeGreaterThanOrEqual(0.7 * max);
    }
    console.log(
      `pacing: workers=${WORKERS} events=${events} writes=${writes.length} ` +
        figures.map((f) => `busiest_${f.ms}ms=${f.busiest}/${f.max}`).join(' ') +
        ` min_slot_gap_ms=${Math.min(...slotGaps)} min_arrival_gap_ms=${Math.min(...gaps)} seconds=${((times.at(-1)! - times[0]!) / 1000).toFixed(1)}`,
    );
  });

  it('a secondary-limit answer to one worker pauses every worker until retry-after, then the write is retried', async () => {
    const events = 8;
    s = await pacedStage();
    s.github.failNext(
      { method: 'POST', path: /\/issues\/3\/comments$/ },
      { status: 403, headers: { 'retry-after': '2' } },
    );
    const ids = await queueIssues(s, events);

    let pause: { until_at: number; started_at: number } | undefined;
    const results = await work(s, async () => {
      pause = await waitFor(
        () =>
          query<{ until_at: number; started_at: number }>(s!.db, 'SELECT * FROM api_pauses WHERE scope = ?', SCOPE)[0],
        30_000,
        `a pause of ${SCOPE}`,
      );
    });

    for (const result of results) expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(statuses(s.db)).toEqual([{ status: 'completed', n: events }]);
    expect(notOneComment(s)).toEqual([]);
    expect(query(s.db, 'SELECT status, attempts FROM webhook_events WHERE id = ?', ids[2])).toEqual([
      { status: 'completed', attempts: 1 },
    ]);
    const posts = s.github.writes().filter((w) => w.path === `/repos/${REPO}/issues/3/comments`);
    expect(posts.map((w) => w.status)).toEqual([403, 201]);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(2000);
    // Any other refusal would have paused the workers too, and `pause` could be that one.
    expect(s.github.secondaryLimitAnswers).toBe(0);

    // The pause lasted retry-after from the refused POST (the fake's record of it: the store stamps
    // started_at when it writes the row, on PostgreSQL with the server's clock, a little later), and no
    // process sent anything to GitHub while it lasted.
    expect(pause!.until_at - posts[0]!.at).toBeGreaterThanOrEqual(2000);
    expect(pause!.started_at).toBeGreaterThanOrEqual(posts[0]!.at);
    const during = s.github.requests.filter((r) => r.at > pause!.started_at + IN_FLIGHT_MS && r.at < pause!.until_at);
    expect(during.map((r) => `${r.method} ${r.path} at ${r.at}`)).toEqual([]);
  });
});
