// The real relay end to end: adnanh/webhook 2.8.0 with examples/webhook/hooks.json, signed requests over
// loopback HTTP, handle-github-event.sh, `hls queue`, and the rows it leaves in SQLite.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import type { EventRow as StoredEvent } from '../src/store/types.js';

/** Rows as the relay test reads them: payloads are never pruned here. */
type EventRow = StoredEvent & { payload: Buffer };
import { cleanEnv, HLS_BIN, query, ROOT, waitFor } from './helpers/hls.js';
import { issuePayload } from './helpers/payloads.js';

const REPOSITORY = 'octo-org/widgets';
const SECRET = `relay-test-${randomUUID()}`;
const HOOK_ID = '424242';

/** The first executable `name` on PATH, or undefined. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const relayBinary = onPath('webhook');
const relayRequired = Boolean(process.env.CI || process.env.HLS_REQUIRE_RELAY);

if (!relayBinary && relayRequired) {
  describe('relay (adnanh/webhook)', () => {
    it('needs the webhook relay on PATH', () => {
      throw new Error(
        'the `webhook` relay (adnanh/webhook 2.8.0, Debian package `webhook`) is not on PATH, and CI or ' +
          'HLS_REQUIRE_RELAY is set: install it (apt-get install webhook) so the relay tests run',
      );
    });
  });
} else if (!relayBinary) {
  console.warn(
    '\n*** WARNING: test/relay.test.ts DID NOT RUN: `webhook` (adnanh/webhook, Debian package `webhook`) is not on PATH.\n' +
      '*** The relay contract is untested on this machine. Install it, or set HLS_REQUIRE_RELAY=1 to make this an error.\n',
  );
  describe.skip('relay (adnanh/webhook)', () => {
    it('is not installed', () => {});
  });
} else {
  describe('relay (adnanh/webhook) in front of hls queue', () => {
    let dir = '';
    let dbPath = '';
    let port = 0;
    let relay: ChildProcess | undefined;
    let relayLog = '';
    const counts = { sent: 0, duplicates: 0, rejected: 0 };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'hls-relay-'));
      dbPath = join(dir, 'hls.db');
      const hooks = readFileSync(join(ROOT, 'examples/webhook/hooks.json'), 'utf8')
        .replaceAll('/opt/hls', ROOT)
        .replaceAll('/var/lib/hls', dir);
      const hooksPath = join(dir, 'hooks.json');
      writeFileSync(hooksPath, hooks);
      port = await freePort();
      relay = spawn(
        relayBinary,
        ['-hooks', hooksPath, '-template', '-verbose', '-ip', '127.0.0.1', '-port', String(port)],
        {
          cwd: dir,
          env: cleanEnv({
            HLS_GITHUB_WEBHOOK_SECRET: SECRET,
            HLS_DB: dbPath,
            HLS_BIN,
            // bin/hls starts with `#!/usr/bin/env node`: make sure it finds the node running the tests.
            PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
          }),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      relay.stdout!.setEncoding('utf8').on('data', (chunk: string) => (relayLog += chunk));
      relay.stderr!.setEncoding('utf8').on('data', (chunk: string) => (relayLog += chunk));
      let exited = false;
      relay.on('exit', () => (exited = true));

      await waitFor(
        async () => {
          if (exited) throw new Error(`webhook exited during start-up:\n${relayLog}`);
          try {
            await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) });
            return true;
          } catch {
            return false;
          }
        },
        10_000,
        `webhook to listen on 127.0.0.1:${port}`,
      );
      // With -verbose the relay keeps running even when hooks.json fails to load: check that it loaded.
      expect(relayLog, relayLog).toContain('loaded: github');
    });

    afterAll(async () => {
      const stored = dbPath && existsSync(dbPath) ? rowCount() : 0;
      console.log(
        `relay: ${counts.sent} deliveries sent, ${stored} stored, ${counts.duplicates} duplicates, ${counts.rejected} rejected`,
      );
      if (relay && relay.exitCode === null && relay.signalCode === null) {
        const gone = new Promise((resolve) => relay!.once('exit', resolve));
        relay.kill('SIGTERM');
        await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
        if (relay.exitCode === null && relay.signalCode === null) relay.kill('SIGKILL');
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** Shows the relay's log when a test fails: it holds the command output and the exit status. */
    function showRelayLogOnFailure(): void {
      onTestFailed(() => {
        console.error(`--- webhook log (last 4000 chars) ---\n${relayLog.slice(-4000)}`);
      });
    }

    interface Delivery {
      event?: string;
      delivery?: string;
      /** undefined: sign with the right secret; null: send no signature header; a string: send it as is. */
      signature?: string | null;
    }

    async function deliver(body: Buffer, options: Delivery = {}): Promise<{ status: number; text: string }> {
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        'User-Agent': 'GitHub-Hookshot/test',
        'X-GitHub-Event': options.event ?? 'issues',
        'X-GitHub-Delivery': options.delivery ?? randomUUID(),
        // Reaches hls only through the entire-headers file (HLS_HEADERS_FILE).
        'X-GitHub-Hook-ID': HOOK_ID,
      };
      const signature = options.signature === undefined ? sign(SECRET, body) : options.signature;
      if (signature !== null) headers['X-Hub-Signature-256'] = signature;
      counts.sent++;
      const response = await fetch(`http://127.0.0.1:${port}/hooks/github`, {
        method: 'POST',
        headers,
        body: new Uint8Array(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      if (response.status >= 300) counts.rejected++;
      else if (text.startsWith('duplicate ')) counts.duplicates++;
      return { status: response.status, text };
    }

    function rows(delivery: string): EventRow[] {
      if (!existsSync(dbPath)) return [];
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
}

/** GitHub's X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw body. */
function sign(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
