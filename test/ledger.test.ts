/**
 * Every paid model call is in the ledger: its row is written before the request (`sent`, at its
 * worst case) and settled after the answer. A call cut by SIGKILL is found by the rescue and counted
 * at its worst case for good (`unsettled`), in the day's spend, the budget, `hls stats`, `hls show` and
 * the Prometheus metrics.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PRICES } from '../src/config/prices.js';
import { costUsd, maxCostUsd, promptTokenBound } from '../src/pipeline/cost.js';
import { defaultTriage, type MessagesRequest, type ScriptedReply } from '../src/simulators/anthropic.js';
import { finished, query, runHls, startHls, waitFor, type RunResult } from './helpers/hls.js';
import { queueIssueEvent, stage, type Stage } from './helpers/pipeline.js';
import { seededRandom } from './helpers/random.js';

let s: Stage | undefined;
const children: ChildProcess[] = [];
const holds: Array<() => void> = [];
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const release of holds.splice(0)) release();
  await s?.close();
  s = undefined;
});

interface Call {
  id: number;
  webhook_id: number;
  outcome: string;
  claude_cost_usd: number;
  reserved_usd: number | null;
  input_tokens: number;
  reservation_id: number | null;
}
interface Reservation {
  id: number;
  state: string;
  reserved_usd: number;
  actual_usd: number | null;
}

const calls = (db: string) => query<Call>(db, 'SELECT * FROM claude_analyses ORDER BY id');
const reservations = (db: string) => query<Reservation>(db, 'SELECT * FROM budget_reservations ORDER BY id');

/** The first model call is held by the fake (never answered while its worker lives); later ones answer. */
function holdFirstCall(): (request: MessagesRequest) => ScriptedReply | Promise<ScriptedReply> {
  let first = true;
  return (request) => {
    if (!first) return defaultTriage(request);
    first = false;
    return new Promise((resolve) => holds.push(() => resolve(defaultTriage(request))));
  };
}

function startWorker(env: NodeJS.ProcessEnv, id: string): { child: ChildProcess; done: Promise<RunResult> } {
  const child = startHls(['worker', '--id', id, '--lease', '1s'], { env });
  children.push(child);
  return { child, done: finished(child) };
}

/** `name{labels} value` lines of the Prometheus exposition, as a map. */
function samples(exposition: string): Map<string, number> {
  return new Map(
    exposition
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return [line.slice(0, at), Number(line.slice(at + 1))] as const;
      }),
  );
}

describe('the ledger of model calls', () => {
  it('a call cut by SIGKILL counts at its worst case: ledger, budget, daily spend, stats, show, metrics', async () => {
    s = await stage({
      anthropic: { respond: holdFirstCall() },
      config: { claude: { daily_budget_usd: 5 }, queue: { max_attempts: 5 } },
    });
    const id = await queueIssueEvent(s, 7);

    const victim = startWorker(s.env, 'victim');
    await waitFor(() => s!.anthropic.messageCalls().length === 1, 15_000, 'the first model call');
    // In flight: on record before the answer, at the reserved worst case.
    const [inFlight] = calls(s.db);
    expect(inFlight).toMatchObject({ webhook_id: id, outcome: 'sent', input_tokens: 0 });
    const [reservation] = reservations(s.db);
    expect(reservation).toMatchObject({ state: 'reserved', id: inFlight!.reservation_id });
    expect(inFlight!.reserved_usd).toBe(reservation!.reserved_usd);
    expect(inFlight!.claude_cost_usd).toBe(reservation!.reserved_usd);
    const during = JSON.parse((await runHls(['stats', '--json'], { env: s.env })).stdout);
    expect(during.model_calls).toMatchObject({ in_flight: 1, in_flight_worst_case_usd: reservation!.reserved_usd });

    victim.child.kill('SIGKILL');
    expect((await victim.done).signal).toBe('SIGKILL');
    const rescuer = startWorker(s.env, 'rescuer');
    await waitFor(
      () =>
        query<{ status: string }>(s!.db, 'SELECT status FROM webhook_events WHERE id = ?', id)[0]!.status ===
        'completed',
      40_000,
      'the event completed by the second worker',
    );
    rescuer.child.kill('SIGTERM');
    expect((await rescuer.done).code).toBe(0);

    // Two paid calls, two rows: the cut one at its worst case for good, the second at its real cost.
    expect(s.anthropic.messageCalls()).toHaveLength(2);
    const [cut, answered] = calls(s.db);
    expect(cut).toMatchObject({ id: inFlight!.id, outcome: 'unsettled', claude_cost_usd: reservation!.reserved_usd });
    expect(answered).toMatchObject({ webhook_id: id, outcome: 'ok' });
    expect(answered!.claude_cost_usd).toBeGreaterThan(0);
    expect(answered!.claude_cost_usd).toBeLessThan(answered!.reserved_usd!);
    const [cutReservation, answeredReservation] = reservations(s.db);
    expect(cutReservation).toMatchObject({ state: 'settled', actual_usd: reservation!.reserved_usd });
    expect(answeredReservation).toMatchObject({ state: 'settled', actual_usd: answered!.claude_cost_usd });
    const spent = cut!.claude_cost_usd + answered!.claude_cost_usd;
    const [day] = query<{ claude_analyses: number; total_cost_usd: number }>(
      s.db,
      'SELECT claude_analyses, total_cost_usd FROM daily_stats WHERE date = ?',
      new Date().toISOString().slice(0, 10),
    );
    expect(day!.claude_analyses).toBe(2);
    expect(day!.total_cost_usd).toBeCloseTo(spent, 12);

    const stats = JSON.parse((await runHls(['stats', '--json'], { env: s.env })).stdout);
    expect(stats.model_calls).toEqual({
      in_flight: 0,
      in_flight_worst_case_usd: 0,
      unsettled_today: 1,
      unsettled_today_usd: cut!.claude_cost_usd,
    });
    expect(stats.today.analyses).toBe(2);
    expect(stats.today.cost_usd).toBeCloseTo(spent, 12);
    expect(stats.budget.committed_usd).toBeCloseTo(spent, 12);
    const text = (await runHls(['stats'], { env: s.env })).stdout;
    expect(text).toContain(`unsettled today 1 ($${cut!.claude_cost_usd.toFixed(4)} at worst case)`);

    const show = await runHls(['show', String(id)], { env: s.env });
    expect(show.stdout).toMatch(
      new RegExp(
        `call ${cut!.id} .* claude-sonnet-5-5  unsettled  tokens 0  \\$${cut!.claude_cost_usd.toFixed(4)} \\(worst case\\)`,
      ),
    );
    const shown = JSON.parse((await runHls(['show', String(id), '--json'], { env: s.env })).stdout);
    expect(shown.calls.map((c: Call) => c.outcome)).toEqual(['unsettled', 'ok']);

    const metrics = samples((await runHls(['stats', '--format', 'prometheus'], { env: s.env })).stdout);
    expect(metrics.get('hls_model_unsettled_calls_total')).toBe(1);
    expect(metrics.get('hls_model_unsettled_cost_usd_total')).toBeCloseTo(cut!.claude_cost_usd, 12);
    expect(metrics.get('hls_model_calls_in_flight')).toBe(0);
    expect(metrics.get('hls_model_requests_total{model="claude-sonnet-5-5",outcome="unsettled"}')).toBe(1);
    expect(metrics.get('hls_model_requests_total{model="claude-sonnet-5-5",outcome="ok"}')).toBe(1);
    expect(metrics.get('hls_model_cost_usd_total{model="claude-sonnet-5-5"}')).toBeCloseTo(spent, 12);
    expect(metrics.get('hls_budget_remaining_usd{scope="all"}')).toBeCloseTo(5 - spent, 12);
  }, 90_000);

  it('without a budget, a call in flight is still on record at a worst case bounded by the prompt bytes', async () => {
    s = await stage({ anthropic: { respond: holdFirstCall() } });
    const id = await queueIssueEvent(s, 8);

    const worker = startWorker(s.env, 'solo');
    const request = await waitFor(() => s!.anthropic.messageCalls()[0], 15_000, 'the model call');

    const [row] = calls(s.db);
    expect(row).toMatchObject({ webhook_id: id, outcome: 'sent', reservation_id: null });
    // No count_tokens request without a budget: the bound is every prompt byte (the answer's JSON schema
    // included) a token at the dearest input
    // rate (sonnet: 4 $/M, the 1-hour cache write) plus max_tokens (1000) of output at 10 $/M.
    expect(s.anthropic.requests.filter((r) => r.path.endsWith('/count_tokens'))).toHaveLength(0);
    const body = request.body as MessagesRequest;
    const bytes =
      Buffer.byteLength((body.system as { text: string }[])[0]!.text) +
      Buffer.byteLength(body.messages[0]!.content as string) +
      Buffer.byteLength(JSON.stringify(body.output_config!.format!.schema));
    expect(row!.reserved_usd).toBeCloseTo(((bytes + 64) * 4 + 1000 * 10) / 1e6, 12);
    expect(row!.claude_cost_usd).toBe(row!.reserved_usd);

    holds.splice(0).forEach((release) => release());
    await waitFor(
      () =>
        query<{ status: string }>(s!.db, 'SELECT status FROM webhook_events WHERE id = ?', id)[0]!.status ===
        'completed',
      15_000,
      'the event completed',
    );
    worker.child.kill('SIGTERM');
    expect((await worker.done).code).toBe(0);
    const [settled] = calls(s.db);
    expect(settled).toMatchObject({ id: row!.id, outcome: 'ok' });
    expect(settled!.claude_cost_usd).toBeLessThan(row!.reserved_usd!);
    expect(settled!.input_tokens).toBeGreaterThan(0);
  }, 30_000);
});

describe('a model call that passes claude.timeout_seconds', () => {
  it('is sent once (the SDK does not send it again), counts once at its worst case, and the event retries', async () => {
    let first = true;
    s = await stage({
      anthropic: {
        respond: (request) => {
          const reply = defaultTriage(request);
          if (!first) return reply;
          first = false;
          return { ...reply, delayMs: 4000 } as ScriptedReply;
        },
      },
      config: { claude: { daily_budget_usd: 5, timeout_seconds: 1 }, queue: { max_attempts: 5 } },
    });
    const id = await queueIssueEvent(s, 9);

    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);

    expect(s.anthropic.messageCalls()).toHaveLength(1);
    const [timedOut] = calls(s.db);
    expect(timedOut).toMatchObject({ webhook_id: id, outcome: 'unsettled', input_tokens: 0 });
    expect(timedOut!.claude_cost_usd).toBe(timedOut!.reserved_usd);
    expect(reservations(s.db)).toEqual([
      expect.objectContaining({ state: 'settled', actual_usd: timedOut!.reserved_usd }),
    ]);
    const row = query<{ status: string; error_class: string; error_message: string }>(
      s.db,
      'SELECT status, error_class, error_message FROM webhook_events WHERE id = ?',
      id,
    )[0]!;
    expect(row).toMatchObject({ status: 'retry', error_class: 'transient:timeout' });
    expect(row.error_message).toContain('no answer from Claude within 1 s (claude.timeout_seconds)');

    await new Promise((resolve) => setTimeout(resolve, 1500)); // the retry's backoff (base 0.1 s, jitter)
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);
    expect(calls(s.db).map((call) => call.outcome)).toEqual(['unsettled', 'ok']);
  }, 30_000);
});

describe('the worst case a call is recorded at (in process, generated inputs)', () => {
  const random = seededRandom(20261130);
  const int = (max: number) => Math.floor(random() * (max + 1));
  /** Text of random code points: ASCII, accents, CJK, emoji (4 UTF-8 bytes, 2 UTF-16 units), controls. */
  const text = (length: number) =>
    String.fromCodePoint(
      ...Array.from(
        { length },
        () => [int(0x7f), 0xc0 + int(0x3f), 0x4e00 + int(0x5000), 0x1f300 + int(0x2ff)][int(3)]!,
      ),
    );

  it('bounds the real cost of every split of the prompt tokens (cache writes, reads) and output', () => {
    for (let i = 0; i < 5000; i++) {
      const [model, prices] = Object.entries(DEFAULT_PRICES)[int(Object.keys(DEFAULT_PRICES).length - 1)]!;
      // Up to 300K prompt tokens, so that a long-context tier is crossed both ways.
      const bound = i % 2 === 0 ? promptTokenBound([text(int(2000))]) : int(300_000);
      const maxTokens = 1 + int(64_000);
      const tokens = int(bound);
      const cacheWrite = int(tokens);
      const cacheRead = int(tokens - cacheWrite);
      const write1h = int(cacheWrite);
      const usage = {
        input_tokens: tokens - cacheWrite - cacheRead,
        output_tokens: int(maxTokens),
        cache_creation_input_tokens: cacheWrite,
        cache_read_input_tokens: cacheRead,
        cache_creation: { ephemeral_5m_input_tokens: cacheWrite - write1h, ephemeral_1h_input_tokens: write1h },
      };
      const worst = maxCostUsd(bound, maxTokens, prices);
      expect(costUsd(usage, prices), `${model} ${JSON.stringify(usage)} bound ${bound}`).toBeLessThanOrEqual(
        worst * (1 + 1e-12),
      );
    }
  });

  it('counts at least one token per UTF-8 byte, whatever the text', () => {
    for (let i = 0; i < 2000; i++) {
      const texts = Array.from({ length: 1 + int(3) }, () => text(int(500)));
      const bytes = texts.reduce((total, t) => total + Buffer.byteLength(t, 'utf8'), 0);
      expect(promptTokenBound(texts)).toBeGreaterThanOrEqual(bytes);
    }
  });
});
