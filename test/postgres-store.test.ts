// The PostgreSQL backend's own tests, against a throwaway cluster this file starts.
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DatabaseMissingError,
  DatabaseRefusedError,
  DatabaseUnavailableError,
  WorkerIdInUseError,
} from '../src/store/errors.js';
import { inspectPostgres, openPostgresStore, POSTGRES_SCHEMA_VERSION } from '../src/store/postgres/index.js';
import type { Store } from '../src/store/store.js';
import type { EventRow, NewEvent } from '../src/store/types.js';
import { startCluster, type Cluster } from './helpers/postgres-cluster.js';

let cluster: Cluster;
const opened: Store[] = [];

beforeAll(async () => {
  cluster = await startCluster();
});

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()));
  cluster?.stop();
});

async function open(url: string, options: { create?: boolean; maxConnections?: number } = { create: true }) {
  const store = await openPostgresStore(url, options);
  opened.push(store);
  return store;
}

/** A new hls database and `count` stores on it, each with its own connections (as separate processes have). */
async function fresh(count = 1): Promise<{ url: string; stores: Store[] }> {
  const url = cluster.createDatabase();
  const first = await open(url);
  const others = await Promise.all(Array.from({ length: count - 1 }, () => open(url)));
  return { url, stores: [first, ...others] };
}

let deliveries = 0;
function newEvent(fields: Partial<NewEvent> = {}): NewEvent {
  const payload = fields.payload ?? Buffer.from(`{"n":${++deliveries}}`);
  return {
    deliveryId: `d-${process.pid}-${++deliveries}`,
    eventType: 'issues',
    action: 'opened',
    repository: 'o/r',
    threadKey: null,
    senderLogin: 'someone',
    senderType: 'User',
    hookId: '42',
    payload,
    payloadSha256: createHash('sha256').update(payload).digest('hex'),
    signature: null,
    ...fields,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('opening a PostgreSQL database', () => {
  it('10 processes starting at once on a new database apply the schema exactly once', async () => {
    const url = cluster.createDatabase();
    const stores = await Promise.all(Array.from({ length: 10 }, () => open(url, { create: true, maxConnections: 1 })));
    expect(stores.every((store) => store.backend === 'postgres')).toBe(true);
    // One row per migration, each applied once.
    const versions = Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, index) => `${index + 1}\n`).join('');
    expect(cluster.psql('SELECT version FROM hls_schema ORDER BY version', url.split('/').pop())).toBe(versions);
  });

  it('creates nothing without create: an empty database is missing, an older schema is refused', async () => {
    const url = cluster.createDatabase();
    await expect(open(url, {})).rejects.toThrow(DatabaseMissingError);
    expect(await inspectPostgres(url)).toEqual({ reachable: true, owner: 'new', version: 0 });
    expect(cluster.psql(`SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`, url.split('/').pop())).toBe(
      '0\n',
    );
    await open(url);
    cluster.psql('DELETE FROM hls_schema', url.split('/').pop());
    await expect(open(url, {})).rejects.toThrow(
      new RegExp(`schema version 0, this hls uses ${POSTGRES_SCHEMA_VERSION}: start a worker or run hls queue`),
    );
  });

  it('leaves another program’s database untouched, even with create', async () => {
    const url = cluster.createDatabase();
    const db = url.split('/').pop();
    cluster.psql('CREATE TABLE orders (id int); INSERT INTO orders VALUES (7)', db);
    for (const options of [{ create: true }, {}]) {
      const refused = await open(url, options).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(DatabaseRefusedError);
      expect((refused as Error).message).toMatch(/is not an hls database .*left untouched/);
    }
    expect(cluster.psql(`SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'`, db)).toBe(
      'orders\n',
    );
    expect(await inspectPostgres(url)).toEqual({ reachable: true, owner: 'foreign', version: 0 });
  });

  it('refuses a schema newer than this hls', async () => {
    const { url } = await fresh();
    cluster.psql('INSERT INTO hls_schema VALUES (99, 0)', url.split('/').pop());
    await expect(open(url)).rejects.toThrow(/schema version 99 is newer than this hls supports/);
    expect(await inspectPostgres(url)).toEqual({ reachable: true, owner: 'hls', version: 99 });
  });

  it('never shows the password: unreachable server, missing database, doctor', async () => {
    const secret = 'pw-Zq81-never-print';
    const closedPort = `postgres://hls:${secret}@127.0.0.1:1/hls`;
    const error = await open(closedPort, { create: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toMatch(/cannot be reached \(ECONNREFUSED\): check that the server runs/);
    expect((error as Error).message).toContain('postgres://hls:***@127.0.0.1:1/hls');
    const missing = cluster.adminUrl.replace('postgres@', `postgres:${secret}@`).replace(/\/postgres$/, '/nope');
    const notThere = await open(missing).catch((e: unknown) => e);
    expect(notThere).toBeInstanceOf(DatabaseMissingError);
    const doctor = await inspectPostgres(closedPort);
    expect(doctor).toMatchObject({ reachable: false });
    for (const message of [(error as Error).message, (notThere as Error).message, doctor.error, String(error)]) {
      expect(message).not.toContain(secret);
    }
    const { stores } = await fresh();
    expect(stores[0]!.location).not.toContain(secret);
  });
});

describe('the queue on PostgreSQL', () => {
  it('stores the payload byte for byte with its sha256, and a redelivery once', async () => {
    const [store] = (await fresh()).stores as [Store];
    const payload = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    const event = newEvent({ payload });
    const id = await store.queue.enqueue(event);
    expect(id).toEqual(expect.any(Number));
    expect(await store.queue.enqueue({ ...event, payload: Buffer.from('other') })).toBeNull();
    const row = (await store.queue.find(String(id)))!;
    expect(Buffer.compare(row.payload!, payload)).toBe(0);
    expect(row.payload_sha256).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(row).toMatchObject({ payload_size: 512, status: 'pending', attempts: 0, delivery_id: event.deliveryId });
    expect((await store.queue.find(event.deliveryId))!.id).toBe(id);
    expect(await store.queue.storedDeliveryIds([event.deliveryId, 'unknown'])).toEqual(new Set([event.deliveryId]));
    const many = Array.from({ length: 70_000 }, (_, i) => `guid-${i}`);
    expect(await store.queue.storedDeliveryIds([...many, event.deliveryId])).toEqual(new Set([event.deliveryId]));
    expect(await store.queue.seenHookIds([42, 43])).toEqual(new Set([42]));
    expect(await store.queue.hookIdsForRepository('O/R')).toEqual([42]);
  });

  it('claims in priority, due time and id order, leased by the database clock', async () => {
    const { url, stores } = await fresh();
    const store = stores[0]!;
    const db = url.split('/').pop();
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await store.queue.enqueue(newEvent()))!);
    cluster.psql(`UPDATE webhook_events SET priority = 1 WHERE id = ${ids[2]}`, db);
    cluster.psql(`UPDATE webhook_events SET scheduled_at = hls_now_ms() + 600000 WHERE id = ${ids[0]}`, db);
    const order: number[] = [];
    for (let claimed; (claimed = await store.queue.claim('w1', 30_000));) {
      order.push(claimed.id);
      expect(claimed).toMatchObject({ status: 'processing', locked_by: 'w1', attempts: 1 });
      expect(claimed.locked_until! - claimed.started_at!).toBe(30_000);
      expect(Math.abs(claimed.started_at! - store.clock())).toBeLessThan(1_000);
    }
    expect(order).toEqual([ids[2], ids[1], ids[3]]);

    const lease = { id: ids[1]!, worker: 'w1', attempt: 1 };
    expect(await store.queue.extendLease(lease, 60_000)).toBe(true);
    expect(await store.queue.extendLease({ ...lease, worker: 'w2' }, 60_000)).toBe(false);
    expect(await store.queue.finish(lease, { status: 'completed' })).toBe(true);
    expect(await store.queue.finish(lease, { status: 'completed' })).toBe(false);
    const third = { id: ids[3]!, worker: 'w1', attempt: 1 };
    expect(await store.queue.returnToQueue(third, store.clock() + 60_000, 'debounce')).toBe(true);
    expect((await store.queue.find(String(ids[3])))!).toMatchObject({
      status: 'pending',
      attempts: 0,
      wait_reason: 'debounce',
    });
    const history = await store.queue.history(ids[1]!);
    expect(history.map((h) => [h.from_status, h.to_status, h.worker])).toEqual([
      [null, 'pending', null],
      ['pending', 'processing', 'w1'],
      ['processing', 'completed', 'w1'],
    ]);
  });

  it('answers the thread queries: earlier events with their analysis, newer ones of the same kind', async () => {
    const [store] = (await fresh()).stores as [Store];
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push((await store.queue.enqueue(newEvent({ threadKey: 'o/r#7' })))!);
    await store.ledger.recordAnalysis({
      eventId: ids[0]!,
      eventType: 'issues',
      repository: 'o/r',
      model: 'm',
      template: 't',
      prompt: 'p',
      response: '{}',
      outcome: 'ok',
      analysisJson: '{"priority":"high"}',
      inputTokens: 10,
      outputTokens: 5,
      cacheWriteTokens: 0,
      cacheReadTokens: 0,
      costUsd: 0.01,
      processingMs: 1200,
      replayGeneration: 0,
      requestId: 'req',
    });
    const history = await store.queue.threadHistory('o/r#7', ids[2]!, 10);
    expect(history.map((h) => [h.id, h.analysis_json])).toEqual([
      [ids[1], null],
      [ids[0], '{"priority":"high"}'],
    ]);
    const first = (await store.queue.find(String(ids[0])))!;
    const newer = await store.queue.newerThreadEvents({ ...first, thread_key: 'o/r#7' }, 60_000);
    expect(newer.map((e) => e.id)).toEqual([ids[2], ids[1]]);
    expect(await store.ledger.findCheckpoint(ids[0]!, 0)).toMatchObject({ analysis_json: '{"priority":"high"}' });
    expect(await store.ledger.analysisTotals(ids[0]!)).toEqual({ analyses: 1, tokens: 15, cost_usd: 0.01 });
  });

  it('rounds a fractional lease or run-at to the millisecond', async () => {
    const [store] = (await fresh()).stores as [Store];
    const id = (await store.queue.enqueue(newEvent()))!;
    const claimed = (await store.queue.claim('w', 1_000.6))!;
    expect(claimed.locked_until! - claimed.started_at!).toBe(1_001);
    const runAt = store.clock() + 0.4;
    expect(await store.queue.returnToQueue({ id, worker: 'w', attempt: 1 }, runAt, null)).toBe(true);
    expect((await store.queue.find(String(id)))!.scheduled_at).toBe(Math.round(runAt));
  });

  it('8 concurrent claimers never hold two events of one thread at once, and take every event', async () => {
    const { stores } = await fresh(8);
    const total = 48;
    for (let i = 0; i < total; i++) await stores[0]!.queue.enqueue(newEvent({ threadKey: `o/r#${i % 4}` }));
    const held = new Map<string, number>();
    const violations: string[] = [];
    let done = 0;
    const claimer = async (store: Store, worker: string) => {
      while (done < total) {
        const event = await store.queue.claim(worker, 30_000);
        if (!event) {
          await sleep(2);
          continue;
        }
        if (held.has(event.thread_key!)) violations.push(`${event.id} while ${held.get(event.thread_key!)}`);
        held.set(event.thread_key!, event.id);
        await sleep(3);
        held.delete(event.thread_key!);
        expect(
          await store.queue.finish({ id: event.id, worker, attempt: event.attempts }, { status: 'completed' }),
        ).toBe(true);
        done++;
      }
    };
    await Promise.all(stores.map((store, i) => claimer(store, `w${i}`)));
    expect(violations).toEqual([]);
    expect((await stores[0]!.admin.readStats(0, 1)).queue).toMatchObject({ completed: total, total });
  });

  it('rescues expired leases and settles the calls they left in flight at worst case', async () => {
    const [store] = (await fresh()).stores as [Store];
    const id = (await store.queue.enqueue(newEvent()))!;
    const claimed = (await store.queue.claim('gone', 1))!;
    const { reservation } = await store.ledger.reserveBudget(
      { eventId: id, repository: 'o/r', amountUsd: 0.5 },
      { dailyUsd: 10 },
    );
    await store.ledger.recordSentCall({
      eventId: id,
      eventType: 'issues',
      repository: 'o/r',
      model: 'm',
      template: 't',
      prompt: 'p',
      replayGeneration: 0,
      reservedUsd: 0.5,
      attempt: claimed.attempts,
      reservationId: reservation!.id,
    });
    await sleep(20);
    expect(await store.queue.rescueExpiredLeases(1)).toEqual([
      { id, delivery_id: claimed.delivery_id, status: 'failed', attempts: 1 },
    ]);
    expect((await store.ledger.eventLedger(id)).map((l) => [l.outcome, l.cost_usd])).toEqual([['unsettled', 0.5]]);
    expect(await store.ledger.analysisTotals(id)).toEqual({ analyses: 1, tokens: 0, cost_usd: 0.5 });
    const stats = await store.admin.readStats(0, 1);
    expect(stats.budgetCommittedToday).toBe(0.5);
    expect(stats.queue.failed).toBe(1);
  });

  it('wakes a listener when another process queues or replays an event', async () => {
    const [listener, producer] = (await fresh(2)).stores as [Store, Store];
    let calls = 0;
    let wake: () => void = () => {};
    const stop = await listener.queue.listen(() => {
      calls++;
      wake();
    });
    const woken = () => new Promise<void>((resolve) => (wake = resolve));
    const first = woken();
    const id = (await producer.queue.enqueue(newEvent()))!;
    await first;
    const claimed = (await listener.queue.claim('w', 30_000))!;
    await listener.queue.finish(
      { id, worker: 'w', attempt: claimed.attempts },
      { status: 'failed', errorClass: 'x', message: 'm' },
    );
    expect((await producer.queue.selectForReplay({ ids: [id, 999], status: 'failed' })).map((c) => c.id)).toEqual([id]);
    expect(await producer.queue.selectForReplay({ ids: [], repository: 'o/r', eventType: 'push', since: 0 })).toEqual(
      [],
    );
    const second = woken();
    expect(await producer.queue.requeue([id])).toBe(1);
    await second;
    await stop();
    const before = calls;
    await producer.queue.enqueue(newEvent());
    await sleep(200);
    expect(calls).toBe(before);
  });
});

describe('limits shared by every process on PostgreSQL', () => {
  it('parallel budget reservations from several connections never go above the cap', async () => {
    const { stores } = await fresh(4);
    const eventId = (await stores[0]!.queue.enqueue(newEvent()))!;
    const attempts = stores.flatMap((store) =>
      Array.from({ length: 5 }, () =>
        store.ledger.reserveBudget({ eventId, repository: 'o/r', amountUsd: 0.3 }, { dailyUsd: 1 }),
      ),
    );
    const results = await Promise.all(attempts);
    expect(results.filter((r) => r.reservation !== null)).toHaveLength(3);
    expect(results[0]!.day).toBe(new Date(stores[0]!.clock()).toISOString().slice(0, 10));
    const metrics = await stores[1]!.admin.collectMetrics([{ scope: 'all', dailyUsd: 1 }]);
    expect(metrics.budgets[0]!.committedUsd).toBeCloseTo(0.9);
  });

  it('paces content writes per token across processes', async () => {
    const { stores } = await fresh(3);
    const pacing = { minIntervalMs: 0, windows: [{ max: 3, ms: 60_000 }] };
    const waits = await Promise.all(
      stores.flatMap((store) => [store, store].map((s) => s.limits.takeWriteSlot('tok', pacing))),
    );
    expect(waits.filter((w) => w === 0)).toHaveLength(3);
    for (const wait of waits.filter((w) => w !== 0)) expect(wait).toBeGreaterThan(59_000);
    expect(await stores[0]!.limits.takeWriteSlot('another-token', pacing)).toBe(0);
    const spaced = { minIntervalMs: 1_000, windows: [] };
    expect(await stores[0]!.limits.takeWriteSlot('spaced', spaced)).toBe(0);
    expect(await stores[1]!.limits.takeWriteSlot('spaced', spaced)).toBeGreaterThan(900);
  });

  it('keeps the longer of two pauses and counts the hits; resume lifts it and frees the parked events', async () => {
    const { stores } = await fresh(2);
    const [a, b] = stores as [Store, Store];
    const now = a.clock();
    await a.limits.pause('github:k', now + 60_000, 'secondary rate limit');
    await b.limits.pause('github:k', now + 30_000, 'shorter');
    await b.limits.pause('anthropic:k', now - 1, 'already over');
    expect(await a.limits.activePause('github:k')).toMatchObject({
      until_at: now + 60_000,
      reason: 'secondary rate limit',
      hits: 2,
    });
    expect((await b.admin.collectMetrics([])).pauses.map((p) => p.scope)).toEqual(['github:k']);
    const id = (await a.queue.enqueue(newEvent()))!;
    const claimed = (await a.queue.claim('w', 30_000))!;
    await a.queue.returnToQueue(
      { id, worker: 'w', attempt: claimed.attempts },
      now + 60_000,
      'GitHub rate limit: waits',
    );
    const dry = await b.limits.resumePauses({ select: () => true, by: 'op@host', note: null, dryRun: true });
    expect(dry.map((p) => [p.scope, p.events_resumed])).toEqual([['github:k', 1]]);
    expect(await a.limits.activePause('github:k')).toBeDefined();
    const [resumed] = await b.limits.resumePauses({ select: () => true, by: 'op@host', note: 'ok', dryRun: false });
    expect(resumed).toMatchObject({ scope: 'github:k', events_resumed: 1, resumed_by: 'op@host', note: 'ok' });
    expect(await a.limits.activePause('github:k')).toBeUndefined();
    expect((await a.queue.claim('w', 30_000))?.id).toBe(id);
    expect((await a.admin.readStats(0, 1)).resumedPauses).toHaveLength(1);
  });

  it('records request durations and rate-limit readings together', async () => {
    const [store] = (await fresh()).stores as [Store];
    const reading = { resource: 'core', limit: 5000, remaining: 4999, used: 1, resetAt: store.clock() + 3_600_000 };
    await store.limits.recordRequest('github', 'k', { route: 'GET /x', status: '200' }, 0.2, [reading]);
    await store.limits.recordRequest('github', 'k', { status: '200', route: 'GET /x' }, 7, [
      { ...reading, remaining: 4998 },
    ]);
    expect(await store.limits.latestRateLimit('github', 'k', 'core')).toMatchObject({
      remaining: 4998,
      limit_value: 5000,
    });
    const [series] = (await store.admin.collectMetrics([])).histograms.github_request_duration_seconds;
    expect(series).toMatchObject({ labels: { route: 'GET /x', status: '200' }, count: 2, sum: 7.2 });
    expect(series!.buckets).toEqual([0, 0, 1, 0, 0, 0, 0, 1, 0, 0]);
    expect((await store.admin.collectMetrics([])).rateLimits).toHaveLength(1);
  });
});

describe('workers on PostgreSQL', () => {
  it('refuses an id a live worker on another host holds; of two started at once exactly one gets it', async () => {
    const { stores } = await fresh(2);
    const [a, b] = stores as [Store, Store];
    const worker = { id: 'w1', pid: 1234, host: 'host-a', lease_ms: 60_000, concurrency: 1 };
    await a.workers.register(worker);
    await expect(b.workers.register({ ...worker, host: 'host-b' })).rejects.toThrow(WorkerIdInUseError);
    await a.workers.stopped({ id: 'w1', pid: 1234, host: 'host-a' }, 3);
    await b.workers.register({ ...worker, host: 'host-b' });

    const race = await Promise.allSettled([
      a.workers.register({ ...worker, id: 'w2', host: 'host-a' }),
      b.workers.register({ ...worker, id: 'w2', host: 'host-b' }),
    ]);
    expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const listed = (await a.admin.readStats(0, 1)).workers;
    expect(listed.map((w) => [w.id, w.host, w.stopped_at])).toEqual(
      expect.arrayContaining([
        ['w1', 'host-b', null],
        ['w2', expect.any(String), null],
      ]),
    );
  });
});

describe('operator views on PostgreSQL', () => {
  it('prunes old finished events without changing the daily totals, then vacuums', async () => {
    const { url, stores } = await fresh();
    const store = stores[0]!;
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push((await store.queue.enqueue(newEvent()))!);
    for (const id of ids.slice(0, 2)) {
      const claimed = (await store.queue.claim('w', 30_000)) as EventRow;
      await store.queue.finish({ id: claimed.id, worker: 'w', attempt: 1 }, { status: 'completed' });
      expect(claimed.id).toBe(id);
    }
    const before = (await store.admin.readStats(0, 2)).daily;
    const cutoff = store.clock() + 1_000;
    expect(await store.admin.planPrune(cutoff, true)).toMatchObject({ payloadsDropped: 2, rowsDeleted: 2 });
    expect(await store.admin.prune(cutoff, true)).toMatchObject({ payloadsDropped: 2, rowsDeleted: 2 });
    await store.admin.reclaimSpace();
    expect(await store.admin.sizeBytes()).toBeGreaterThan(1_000_000);
    expect((await store.admin.readStats(0, 2)).daily).toEqual(before);
    expect(cluster.psql('SELECT count(*) FROM webhook_events', url.split('/').pop())).toBe('1\n');
    expect(before[0]).toMatchObject({ events: 3, completed: 2 });
  });
});

describe('connection settings', () => {
  it('honours sslmode: disable and prefer connect to a server without TLS, require refuses it', async () => {
    const { url } = await fresh();
    for (const sslmode of ['disable', 'prefer']) {
      const store = await open(`${url}?sslmode=${sslmode}`, {});
      expect(await store.queue.find('1')).toBeUndefined();
    }
    await expect(open(`${url}?sslmode=require`, {})).rejects.toThrow(DatabaseUnavailableError);
    await expect(open(`${url}?sslmode=sometimes`, {})).rejects.toThrow(/sslmode=sometimes is not one of/);
  });

  it('logs in with the password from the URL, PGPASSWORD or a passfile, and never prints it', async () => {
    const secret = 'pw-Kx72-login-secret';
    cluster.psql(`CREATE ROLE hls_login LOGIN PASSWORD '${secret}'`);
    const db = cluster.createDatabase().split('/').pop();
    cluster.psql(`ALTER DATABASE ${db} OWNER TO hls_login`);
    const hba = join(cluster.dir, 'data', 'pg_hba.conf');
    writeFileSync(hba, `host all hls_login 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`);
    cluster.psql('SELECT pg_reload_conf()');
    const url = `postgres://hls_login@127.0.0.1:${cluster.port}/${db}`;
    const saved = { PGPASSWORD: process.env.PGPASSWORD, PGPASSFILE: process.env.PGPASSFILE };
    try {
      process.env.PGPASSFILE = join(cluster.dir, 'no-passfile');
      const refused = await open(url.replace('hls_login@', 'hls_login:wrong@')).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(DatabaseUnavailableError);
      expect((refused as Error).message).toMatch(/refused the login \(28P01\): check the user, and the password/);
      expect((refused as Error).message).not.toContain('wrong');
      const fromUrl = await open(url.replace('hls_login@', `hls_login:${secret}@`));
      expect(fromUrl.location).not.toContain(secret);
      expect(await fromUrl.queue.enqueue(newEvent())).toEqual(expect.any(Number));
      process.env.PGPASSWORD = secret;
      expect(await (await open(url, {})).queue.find('1')).toBeDefined();
      delete process.env.PGPASSWORD;
      const passfile = join(cluster.dir, 'pgpass');
      writeFileSync(passfile, `127.0.0.1:${cluster.port}:${db}:hls_login:${secret}\n`);
      chmodSync(passfile, 0o600);
      process.env.PGPASSFILE = passfile;
      expect(await (await open(url, {})).queue.find('1')).toBeDefined();
      chmodSync(passfile, 0o644);
      await expect(open(url, {})).rejects.toThrow(DatabaseUnavailableError);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('gives up on a server that accepts but never answers within busyTimeoutMs', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const started = Date.now();
      const error = await openPostgresStore(`postgres://hls:secret@127.0.0.1:${port}/hls`, {
        busyTimeoutMs: 300,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect((error as Error).message).toMatch(/\(CONNECT_TIMEOUT\)/);
      expect((error as Error).message).not.toContain('secret');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      silent.close();
    }
  });

  it('reads the clock of the database', async () => {
    const { url, stores } = await fresh();
    const before = stores[0]!.clock();
    const server = Number(cluster.psql('SELECT hls_now_ms()', url.split('/').pop()));
    const after = stores[0]!.clock();
    expect(server).toBeGreaterThanOrEqual(before - 50);
    expect(server).toBeLessThanOrEqual(after + 50);
  });
});

// Last: it restarts the cluster every test here shares.
describe('a database restart', () => {
  it('fails calls with DatabaseUnavailableError while down; the pool and LISTEN come back by themselves', async () => {
    const { stores } = await fresh(2);
    const [worker, producer] = stores as [Store, Store];
    let wakes = 0;
    const stop = await worker.queue.listen(() => wakes++);
    const restarted = cluster.restart({ downMs: 1_500 });
    await sleep(500);
    const error = await producer.queue.enqueue(newEvent()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toMatch(/cannot be reached|not accepting connections/);
    await restarted;
    const id = await producer.queue.enqueue(newEvent());
    expect(id).toEqual(expect.any(Number));
    for (let waited = 0; wakes === 0 && waited < 5_000; waited += 50) await sleep(50);
    expect(wakes).toBeGreaterThan(0);
    expect((await worker.queue.claim('w', 30_000))?.id).toBe(id);
    await stop();
  });
});
