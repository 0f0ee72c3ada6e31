// The real relay end to end: adnanh/webhook 2.8.0 with examples/webhook/hooks.json, signed requests over
// loopback HTTP, handle-github-event.sh, `hls queue`, and the rows it leaves in the database.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, onTestFailed } from 'vitest';
import type { EventRow as StoredEvent } from '../src/store/types.js';
import { storeCreated } from './helpers/backend.js';
import { query } from './helpers/hls.js';
import { issuePayload } from './helpers/payloads.js';
import { describeWithRelay, HOOK_ID, sign, startRelay, type DeliveryOptions, type Relay } from './helpers/relay.js';

/** Rows as the relay test reads them: payloads are never pruned here. */
type EventRow = StoredEvent & { payload: Buffer };

const REPOSITORY = 'octo-org/widgets';
const SECRET = `relay-test-${randomUUID()}`;

describeWithRelay('test/relay.test.ts', 'relay (adnanh/webhook) in front of hls queue', (binary) => {
  let dir = '';
  let dbPath = '';
  let relay: Relay | undefined;
  const counts = { sent: 0, duplicates: 0, rejected: 0 };

  beforeAll(async () => {
    relay = await startRelay({ binary, secret: SECRET });
    dir = relay.dir;
    dbPath = relay.dbPath;
  });

  afterAll(async () => {
    const stored = dbPath && storeCreated(dbPath) ? rowCount() : 0;
    console.log(
      `relay: ${counts.sent} deliveries sent, ${stored} stored, ${counts.duplicates} duplicates, ${counts.rejected} rejected`,
    );
    await relay?.stop();
  });

  /** Shows the relay's log when a test fails: it holds the command output and the exit status. */
  function showRelayLogOnFailure(): void {
    onTestFailed(() => {
      console.error(`--- webhook log (last 4000 chars) ---\n${relay?.log().slice(-4000) ?? ''}`);
    });
  }

  async function deliver(body: Buffer, options: DeliveryOptions = {}): Promise<{ status: number; text: string }> {
    counts.sent++;
    const response = await relay!.deliver(body, options);
    if (response.status >= 300) counts.rejected++;
    else if (response.text.startsWith('duplicate ')) counts.duplicates++;
    return { status: response.status, text: response.text };
  }

  function rows(delivery: string): EventRow[] {
    if (!storeCreated(dbPath)) return [];
    return query<EventRow>(dbPath, 'SELECT * FROM webhook_events WHERE delivery_id = ?', delivery);
  }

  function rowCount(): number {
    return query<{ n: number }>(dbPath, 'SELECT COUNT(*) AS n FROM webhook_events')[0]!.n;
  }

  /** Byte equality without handing megabytes to the diff printer. */
  function expectSameBytes(stored: Buffer, sent: Buffer): void {
    expect(Buffer.isBuffer(stored), 'payload column is a BLOB').toBe(true);
    expect(stored.length, 'stored payload length').toBe(sent.length);
    expect(stored.equals(sent), 'stored payload is byte-identical to the request body').toBe(true);
  }

  it('queues a signed issues.opened delivery: 202, one pending row holding the exact bytes', async () => {
    showRelayLogOnFailure();
    const delivery = randomUUID();
    const body = Buffer.from(JSON.stringify(issuePayload(7, REPOSITORY)));
    const signature = sign(SECRET, body);

    const response = await deliver(body, { delivery, signature });

    expect(response.status).toBe(202);
    const match = /^queued (\d+) issues\.opened octo-org\/widgets\n?$/.exec(response.text);
    expect(match, `response body: ${JSON.stringify(response.text)}`).not.toBeNull();
    const [row] = rows(delivery);
    expect(row).toBeDefined();
    expect(row!.id).toBe(Number(match![1]));
    expect(row!.status).toBe('pending');
    expect(row!.event_type).toBe('issues');
    expect(row!.action).toBe('opened');
    expect(row!.repository).toBe(REPOSITORY);
    expect(row!.signature).toBe(signature);
    expect(row!.hook_id).toBe(HOOK_ID);
    expectSameBytes(row!.payload, body);
    expect(row!.payload_sha256).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('answers a redelivery with the same GUID with "duplicate" and keeps one row', async () => {
    showRelayLogOnFailure();
    const delivery = randomUUID();
    const body = Buffer.from(JSON.stringify(issuePayload(8, REPOSITORY)));

    const first = await deliver(body, { delivery });
    const again = await deliver(body, { delivery });

    expect(first.status).toBe(202);
    expect(again.status).toBeGreaterThanOrEqual(200);
    expect(again.status).toBeLessThan(300);
    expect(again.text.trim()).toBe(`duplicate ${delivery}`);
    expect(rows(delivery)).toHaveLength(1);
  });

  it('rejects a wrong signature with 403 and stores nothing', async () => {
    showRelayLogOnFailure();
    const delivery = randomUUID();
    const body = Buffer.from(JSON.stringify(issuePayload(9, REPOSITORY)));

    const response = await deliver(body, { delivery, signature: sign(`${SECRET}-wrong`, body) });

    expect(response.status).toBe(403);
    expect(response.text).not.toMatch(/^queued/);
    expect(rows(delivery)).toHaveLength(0);
  });

  it('rejects a delivery without a signature with 403 and stores nothing', async () => {
    showRelayLogOnFailure();
    const delivery = randomUUID();
    const body = Buffer.from(JSON.stringify(issuePayload(10, REPOSITORY)));

    const response = await deliver(body, { delivery, signature: null });

    expect(response.status).toBe(403);
    expect(rows(delivery)).toHaveLength(0);
  });

  it('stores a 5 MiB payload byte for byte', async () => {
    showRelayLogOnFailure();
    const delivery = randomUUID();
    // Multi-byte characters and "<" too: a re-serialising relay (entire-payload) would change them.
    const filler = 'Grüße <b>&amp; 日本 '.repeat(Math.ceil((5 * 1024 * 1024) / 20));
    const body = Buffer.from(JSON.stringify(issuePayload(11, REPOSITORY, { filler })));
    expect(body.length).toBeGreaterThanOrEqual(5 * 1024 * 1024);

    const response = await deliver(body, { delivery });

    expect(response.status, response.text).toBe(202);
    expect(response.text).toMatch(/^queued \d+ issues\.opened octo-org\/widgets/);
    const [row] = rows(delivery);
    expectSameBytes(row!.payload, body);
    expect(row!.payload_sha256).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('passes shell metacharacters through as data: stored exactly, nothing executed', async () => {
    showRelayLogOnFailure();
    const delivery = randomUUID();
    const marker = join(dir, 'pwned');
    const nasty = [
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `; touch ${marker}; rm -rf ${join(dir, 'nothing-here')}`,
      `'"'"' && touch ${marker} || touch ${marker}`,
      `| touch ${marker} &`,
      `line one\nline two $(touch ${marker})\r\n\t${'${IFS}'}touch${'${IFS}'}${marker}`,
      `"; touch ${marker}; echo "`,
      `' ; touch ${marker} ; echo '`,
    ];
    const payload = issuePayload(12, REPOSITORY, { nasty });
    (payload.issue as Record<string, unknown>).title = nasty[0];
    (payload.issue as Record<string, unknown>).body = nasty.join('\n');
    // Pretty-printed: real newlines and indentation between tokens must survive too.
    const body = Buffer.from(`${JSON.stringify(payload, null, 2)}\n`);

    const response = await deliver(body, { delivery });

    expect(response.status, response.text).toBe(202);
    const [row] = rows(delivery);
    expectSameBytes(row!.payload, body);
    expect(existsSync(marker), `${marker} must not exist`).toBe(false);
  });

  it('rejects metacharacters in the event and delivery headers at the relay (403)', async () => {
    showRelayLogOnFailure();
    const marker = join(dir, 'pwned');
    const body = Buffer.from(JSON.stringify(issuePayload(13, REPOSITORY)));

    const badEvent = await deliver(body, { event: `issues;touch ${marker}` });
    const badDelivery = await deliver(body, { delivery: `$(touch ${marker})` });

    expect(badEvent.status).toBe(403);
    expect(badDelivery.status).toBe(403);
    expect(existsSync(marker)).toBe(false);
  });

  it('answers 500 to a correctly signed body that is not JSON, and stores nothing', async () => {
    showRelayLogOnFailure();
    const delivery = randomUUID();
    const body = Buffer.from('action=opened&this=is-not-json');

    const response = await deliver(body, { delivery });

    expect(response.status).toBe(500);
    expect(response.text).toMatch(/^error: body is not valid JSON/);
    expect(rows(delivery)).toHaveLength(0);
  });

  it('stores ten concurrent distinct deliveries as ten rows', async () => {
    showRelayLogOnFailure();
    const deliveries = Array.from({ length: 10 }, () => randomUUID());

    const responses = await Promise.all(
      deliveries.map((delivery, index) =>
        deliver(Buffer.from(JSON.stringify(issuePayload(100 + index, REPOSITORY))), { delivery }),
      ),
    );

    for (const response of responses) {
      expect(response.status, response.text).toBe(202);
      expect(response.text).toMatch(/^queued \d+ issues\.opened octo-org\/widgets/);
    }
    const stored = query<{ delivery_id: string }>(
      dbPath,
      `SELECT delivery_id FROM webhook_events WHERE delivery_id IN (${deliveries.map(() => '?').join(', ')})`,
      ...deliveries,
    );
    expect(stored.map((row) => row.delivery_id).sort()).toEqual([...deliveries].sort());
    const ids = responses.map((response) => response.text.split(' ')[1]);
    expect(new Set(ids).size).toBe(10);
  });

  it('leaves no temporary body or header files behind', () => {
    showRelayLogOnFailure();
    const leftovers = readdirSync(dir).filter((name) => name.startsWith('HLS_'));
    expect(leftovers).toEqual([]);
  });
});
