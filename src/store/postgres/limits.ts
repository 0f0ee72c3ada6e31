import type { LimitsStore } from '../store.js';
import { assembleHistogram, bucketIndex, labelKey } from '../histograms.js';
import { longestWindowMs, writeWait } from '../pacing.js';
import { liftedPause, waitingCondition } from '../pause-scopes.js';
import type { Api, HistogramName, HistogramSeries, Pause, RateLimitRow, ResumedPause } from '../types.js';
import type { Db, Sql } from './connect.js';
import { lockForTransaction } from './locks.js';

const REQUEST_DURATIONS: Record<Api, HistogramName> = {
  github: 'github_request_duration_seconds',
  anthropic: 'anthropic_request_duration_seconds',
};

export function postgresLimits(sql: Sql): LimitsStore {
  return {
    async recordRequest(api, keySha256, labels, seconds, readings) {
      await sql.begin(async (tx) => {
        await observe(tx, REQUEST_DURATIONS[api], labels, seconds);
        for (const r of readings) {
          await tx`
            INSERT INTO rate_limit_history (api, key_sha256, resource, limit_value, remaining, used, reset_at, observed_at)
            VALUES (${api}, ${keySha256}, ${r.resource}, ${r.limit}, ${r.remaining}, ${r.used}, ${r.resetAt}, hls_now_ms())`;
        }
      });
    },

    async observe(metric, labels, seconds) {
      await sql.begin((tx) => observe(tx, metric, labels, seconds));
    },

    async latestRateLimit(api, keySha256, resource) {
      const [row] = await sql<RateLimitRow[]>`
        SELECT api, key_sha256, resource, limit_value, remaining, used, reset_at, observed_at FROM rate_limit_history
         WHERE api = ${api} AND key_sha256 = ${keySha256} AND resource = ${resource}
         ORDER BY id DESC LIMIT 1`;
      return row;
    },

    async pause(scope, untilAt, reason) {
      await sql`
        INSERT INTO api_pauses (scope, until_at, reason, started_at) VALUES (${scope}, ${untilAt}, ${reason}, hls_now_ms())
        ON CONFLICT (scope) DO UPDATE SET
          hits = CASE WHEN api_pauses.until_at > excluded.started_at THEN api_pauses.hits + 1 ELSE 1 END,
          started_at = CASE WHEN api_pauses.until_at > excluded.started_at THEN api_pauses.started_at
                            ELSE excluded.started_at END,
          reason = CASE WHEN excluded.until_at >= api_pauses.until_at THEN excluded.reason ELSE api_pauses.reason END,
          until_at = greatest(api_pauses.until_at, excluded.until_at)`;
    },

    async activePause(scope) {
      const [pause] = await sql<Pause[]>`SELECT * FROM api_pauses WHERE scope = ${scope} AND until_at > hls_now_ms()`;
      return pause;
    },

    /**
     * Atomic across processes and hosts: under the token's advisory lock, the clock is read after the
     * lock is held, so a slot another process took while this one waited is seen.
     */
    async takeWriteSlot(keySha256, pacing) {
      return sql.begin(async (tx) => {
        await lockForTransaction(tx, 'writeSlot', keySha256);
        const [clock] = await tx<{ now: number }[]>`SELECT hls_now_ms() AS now`;
        const now = clock!.now;
        await tx`DELETE FROM github_writes WHERE key_sha256 = ${keySha256} AND sent_at <= ${now - longestWindowMs(pacing)}`;
        const sent = await tx<{ sent_at: number }[]>`
          SELECT sent_at FROM github_writes WHERE key_sha256 = ${keySha256} ORDER BY sent_at`;
        const wait = writeWait(
          sent.map((row) => row.sent_at),
          pacing,
          now,
        );
        if (wait === 0) await tx`INSERT INTO github_writes (key_sha256, sent_at) VALUES (${keySha256}, ${now})`;
        return wait;
      });
    },

    /**
     * Each selected pause in force is recorded in api_pause_history and deleted, and the events it
     * parked become due now (they keep their wait_reason). The pauses are locked for the transaction,
     * so one an API answer records meanwhile is either lifted too or kept whole. A dry run writes nothing.
     */
    async resumePauses(request) {
      return sql.begin(async (tx) => {
        const [clock] = await tx<{ now: number }[]>`SELECT hls_now_ms() AS now`;
        const now = clock!.now;
        const pauses = await tx<Pause[]>`
          SELECT * FROM api_pauses WHERE until_at > ${now} ORDER BY scope COLLATE "C" ${request.dryRun ? tx`` : tx`FOR UPDATE`}`;
        const resumed: ResumedPause[] = [];
        for (const pause of pauses.filter(request.select)) {
          const waiting = tx`status IN ('pending', 'retry') AND scheduled_at > ${now}
                             AND ${tx.unsafe(waitingCondition(pause.scope))}`;
          const [count] = await tx<{ n: number }[]>`SELECT count(*) AS n FROM webhook_events WHERE ${waiting}`;
          const lifted = liftedPause(pause, request, now, count!.n);
          resumed.push(lifted);
          if (request.dryRun) continue;
          await tx`UPDATE webhook_events SET scheduled_at = ${now} WHERE ${waiting}`;
          await tx`DELETE FROM api_pauses WHERE scope = ${pause.scope}`;
          await tx`INSERT INTO api_pause_history ${tx(lifted)}`;
        }
        return resumed;
      });
    },
  };
}

/** Adds one observation to a histogram (both of its tables, so run it in a transaction). */
async function observe(db: Db, metric: HistogramName, labels: Record<string, string>, seconds: number): Promise<void> {
  const key = labelKey(labels);
  await db`
    INSERT INTO metric_buckets (metric, labels, bucket, count) VALUES (${metric}, ${key}, ${bucketIndex(metric, seconds)}, 1)
    ON CONFLICT (metric, labels, bucket) DO UPDATE SET count = metric_buckets.count + 1`;
  await db`
    INSERT INTO metric_totals (metric, labels, count, sum) VALUES (${metric}, ${key}, 1, ${seconds})
    ON CONFLICT (metric, labels) DO UPDATE SET count = metric_totals.count + 1, sum = metric_totals.sum + excluded.sum`;
}

/** Pauses in force at `now` (the database's clock when omitted). */
export async function activePauses(db: Db, now?: number): Promise<Pause[]> {
  return [
    ...(await db<Pause[]>`
      SELECT * FROM api_pauses WHERE until_at > ${now === undefined ? db`hls_now_ms()` : now} ORDER BY scope COLLATE "C"`),
  ];
}

/** The newest reading of every (api, key, resource). */
export async function latestRateLimits(db: Db): Promise<RateLimitRow[]> {
  return [
    ...(await db<RateLimitRow[]>`
      SELECT * FROM (
        SELECT DISTINCT ON (api, key_sha256, resource)
               api, key_sha256, resource, limit_value, remaining, used, reset_at, observed_at
          FROM rate_limit_history
         ORDER BY api, key_sha256, resource, id DESC) AS latest
       ORDER BY api COLLATE "C", resource COLLATE "C", key_sha256 COLLATE "C"`),
  ];
}

export async function histogram(db: Db, metric: HistogramName): Promise<HistogramSeries[]> {
  const totals = await db<{ labels: string; count: number; sum: number }[]>`
    SELECT labels, count, sum FROM metric_totals WHERE metric = ${metric} ORDER BY labels COLLATE "C"`;
  const buckets = await db<{ labels: string; bucket: number; count: number }[]>`
    SELECT labels, bucket, count FROM metric_buckets WHERE metric = ${metric}`;
  return assembleHistogram(metric, totals, buckets);
}
