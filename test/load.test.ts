// The load proof: 1000 distinct signed issues.opened deliveries and 100 redeliveries through the real relay
// (adnanh/webhook 2.8.0 with examples/webhook/hooks.json) at concurrency 10, each one a separate
// `hls queue` process writing the same SQLite file. Every delivery must be acknowledged (202) and stored
// exactly once, every redelivery answered `duplicate <guid>`, and the stored bytes must be what was signed.
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import type { EventRow as StoredEvent } from '../src/store/types.js';
import { query } from './helpers/hls.js';
import { issueBody, sendAll, sendPlan } from './helpers/deliveries.js';
import { describeWithRelay, startRelay, type Relay } from './helpers/relay.js';

type EventRow = StoredEvent & { payload: Buffer };

const REPOSITORY = 'octo-org/widgets';
const DELIVERIES = 1000;
const REDELIVERIES = 100;
const CONCURRENCY = 10;
/** Stop sending after this many request errors or non-2xx answers. */
const MAX_PROBLEMS = 20;
/**
 * About 1100 `hls queue` processes at roughly 0.1 s of CPU each: under a minute on an idle 2-core
 * machine. The limit leaves room for a machine shared with other work; the printed `seconds` is the figure.
 */
const TIMEOUT_MS = 300_000;

/** Nearest-rank percentile of an ascending list. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

describeWithRelay('test/load.test.ts', 'load through the relay (adnanh/webhook) into hls queue', () => {
  let relay: Relay | undefined;

  beforeAll(async () => {
    relay = await startRelay();
  });

  afterAll(async () => {
    await relay?.stop();
  });

  it(
    `stores ${DELIVERIES} signed deliveries once each and answers ${REDELIVERIES} redeliveries "duplicate", at concurrency ${CONCURRENCY}`,
    async () => {
      const r = relay!;
      onTestFailed(() => {
        console.error(`--- webhook log (last 4000 chars) ---\n${r.log().slice(-4000)}`);
      });
      const guids = Array.from({ length: DELIVERIES }, () => randomUUID());
      const bodies = Array.from({ length: DELIVERIES }, (_, index) => issueBody(index, REPOSITORY));
      const order = sendPlan(DELIVERIES, REDELIVERIES);
      expect(order).toHaveLength(DELIVERIES + REDELIVERIES);
      expect(order.filter((send) => send.redelivery)).toHaveLength(REDELIVERIES);

      const started = performance.now();
      const { results, failures } = await sendAll(order, CONCURRENCY, MAX_PROBLEMS, (send) =>
        r.deliver(bodies[send.index]!, { delivery: guids[send.index]!, timeoutMs: 30_000 }),
      );
      const seconds = (performance.now() - started) / 1000;

      const latencies = results.map(({ result }) => result.ms).sort((a, b) => a - b);
      const non2xx = results.filter(({ result }) => result.status < 200 || result.status >= 300);
      const rowCount = query<{ n: number }>(r.dbPath, 'SELECT count(*) AS n FROM webhook_events')[0]!.n;
      console.log(
        `load: deliveries=${DELIVERIES} redeliveries=${REDELIVERIES} rows=${rowCount} non_2xx=${non2xx.length} ` +
          `seconds=${seconds.toFixed(1)} deliveries_per_s=${(results.length / seconds).toFixed(1)} ` +
          `p95_ms=${percentile(latencies, 95).toFixed(0)}`,
      );
      expect(failures, failures.slice(0, 5).join('\n')).toEqual([]);
      expect(results).toHaveLength(DELIVERIES + REDELIVERIES);

      // Every request acknowledged with the relay's success code.
      expect(
        non2xx.slice(0, 5).map(({ result }) => `${result.status} ${result.text}`),
        'non-2xx answers',
      ).toEqual([]);
      for (const { result } of results) expect(result.status, result.text).toBe(202);

      // Originals: queued, one distinct id each; redeliveries: duplicate <guid>.
      const queuedIds = new Map<string, number>();
      for (const { send, result } of results) {
        const guid = guids[send.index]!;
        if (send.redelivery) {
          expect(result.text.trim(), `redelivery of ${send.index}`).toBe(`duplicate ${guid}`);
        } else {
          const match = /^queued (\d+) issues\.opened octo-org\/widgets\n?$/.exec(result.text);
          expect(match, `delivery ${send.index}: ${JSON.stringify(result.text)}`).not.toBeNull();
          queuedIds.set(guid, Number(match![1]));
        }
      }
      expect(queuedIds.size).toBe(DELIVERIES);
      expect(new Set(queuedIds.values()).size).toBe(DELIVERIES);

      // Exactly the sent deliveries, each once, under the id its answer named, with the signed bytes' hash.
      expect(rowCount).toBe(DELIVERIES);
      const duplicated = query(
        r.dbPath,
        'SELECT delivery_id, count(*) AS n FROM webhook_events GROUP BY delivery_id HAVING n > 1',
      );
      expect(duplicated).toEqual([]);
      const stored = query<Pick<EventRow, 'id' | 'delivery_id' | 'payload_sha256' | 'payload_size' | 'status'>>(
        r.dbPath,
        'SELECT id, delivery_id, payload_sha256, payload_size, status FROM webhook_events',
      );
      const byGuid = new Map(stored.map((row) => [row.delivery_id, row]));
      expect(byGuid.size).toBe(DELIVERIES);
      guids.forEach((guid, index) => {
        const row = byGuid.get(guid);
        expect(row, `row for delivery ${index}`).toBeDefined();
        expect(row!.id).toBe(queuedIds.get(guid));
        expect(row!.status).toBe('pending');
        expect(row!.payload_size).toBe(bodies[index]!.length);
        expect(row!.payload_sha256).toBe(createHash('sha256').update(bodies[index]!).digest('hex'));
      });
      expect(query(r.dbPath, 'SELECT count(*) AS n FROM event_history')).toEqual([{ n: DELIVERIES }]);

      // Byte-exact payloads for a sample: the first, the last, every redelivered one's neighbour, some spread.
      const sample = new Set<number>([0, DELIVERIES - 1]);
      for (let index = 5; index < DELIVERIES; index += 50) sample.add(index);
      for (let index = 0; index < DELIVERIES; index += 100) sample.add(index);
      for (const index of sample) {
        const [row] = query<EventRow>(
          r.dbPath,
          'SELECT payload FROM webhook_events WHERE delivery_id = ?',
          guids[index]!,
        );
        expect(Buffer.isBuffer(row!.payload), 'payload is a BLOB').toBe(true);
        expect(row!.payload.equals(bodies[index]!), `payload of delivery ${index} is byte-identical`).toBe(true);
      }

      // The relay removed every temporary body and headers file.
      expect(readdirSync(r.dir).filter((name) => name.startsWith('HLS_'))).toEqual([]);
    },
    TIMEOUT_MS,
  );
});
