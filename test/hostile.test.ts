// Hostile request bodies, each through the real `hls queue` process and, when it is stored, through
// `hls worker --once` with no config: the queue answers one line with a documented exit code (never a
// stack trace), a stored body keeps its exact bytes, and the worker ends every stored event as skipped
// with a reason without crashing. The "Hostile input" table of docs/operations.md documents exactly these outcomes.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EventRow as StoredEvent } from '../src/store/types.js';
import { asStored, newDatabase, storeCreated } from './helpers/backend.js';
import { finished, query, runHls, startHls, tempDir, type RunResult } from './helpers/hls.js';
import { issuePayload, writeBody } from './helpers/payloads.js';

type EventRow = StoredEvent & { payload: Buffer };

const MAX_BODY_BYTES = 25 * 1024 * 1024;
const NOT_CONFIGURED = 'repository octo-org/widgets is not configured';

/** JSON.stringify(payload) with every `@@X@@` replaced by `raw` (bytes or JSON text, inserted as is). */
function splice(payload: unknown, raw: string | Buffer): Buffer {
  const parts = JSON.stringify(payload).split('@@X@@');
  const insert = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
  return Buffer.concat(
    parts.flatMap((part, index) => (index === 0 ? [Buffer.from(part)] : [insert, Buffer.from(part)])),
  );
}

/** An issues.opened payload with `raw` (the inside of a JSON string) spliced into the issue's body or title. */
function issueWith(raw: string | Buffer, where: 'body' | 'title' = 'body'): Buffer {
  const payload = issuePayload(7);
  (payload.issue as Record<string, unknown>)[where] = 'Steps to reproduce: start it. @@X@@ It crashes.';
  return splice(payload, raw);
}

/** `depth` levels of nesting under "deep" in an otherwise ordinary issues.opened payload. */
function nested(depth: number, open: string, inner: string, close: string): Buffer {
  const text = JSON.stringify(issuePayload(7, 'octo-org/widgets', { deep: '@@DEEP@@' }));
  return Buffer.from(text.replace('"@@DEEP@@"', `${open.repeat(depth)}${inner}${close.repeat(depth)}`));
}

interface HostileCase {
  name: string;
  body: () => Buffer;
  event?: string;
  /** Send the body on stdin (`--body-file -`) instead of a file. */
  stdin?: boolean;
  exit: number;
  /** The single stdout line, without its newline. */
  line: RegExp;
  /** For stored bodies: what the worker (no config) records. */
  stored?: { repository: string | null; skipReason: string };
  /** A known bug in src/: the queue-outcome test is `it.fails` until it is fixed. */
  bug?: string;
}

const CASES: HostileCase[] = [
  {
    name: 'invalid UTF-8 bytes inside a JSON string (issue body)',
    // 0xFF and 0xFE never occur in UTF-8; C3 28 is a broken two-byte sequence; ED A0 80 encodes a surrogate.
    body: () => issueWith(Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80])),
    exit: 0,
    line: /^queued \d+ issues\.opened octo-org\/widgets$/,
    stored: { repository: 'octo-org/widgets', skipReason: NOT_CONFIGURED },
  },
  {
    name: 'invalid UTF-8 bytes inside repository.full_name (decoded with U+FFFD for the index)',
    body: () => splice(issuePayload(7, 'octo-org/wid@@X@@gets'), Buffer.from([0xff, 0xfe])),
    exit: 0,
    line: /^queued \d+ issues\.opened octo-org\/wid\uFFFD\uFFFDgets$/,
    stored: {
      repository: 'octo-org/wid\uFFFD\uFFFDgets',
      skipReason: 'repository octo-org/wid\uFFFD\uFFFDgets is not configured',
    },
  },
  {
    name: 'an escaped lone surrogate (\\ud800) inside a string',
    body: () => issueWith('lone \\ud800 and reversed \\udc00\\ud800 pair', 'title'),
    exit: 0,
    line: /^queued \d+ issues\.opened octo-org\/widgets$/,
    stored: { repository: 'octo-org/widgets', skipReason: NOT_CONFIGURED },
  },
  {
    name: 'JSON nested 10,000 levels deep (arrays)',
    body: () => nested(10_000, '[', '', ']'),
    exit: 65,
    line: /^error: body is nested deeper than 64 levels$/,
  },
  {
    name: 'JSON nested 10,000 levels deep (objects)',
    body: () => nested(10_000, '{"a":', '1', '}'),
    exit: 65,
    line: /^error: body is nested deeper than 64 levels$/,
  },
  {
    name: 'JSON nested 1,000,000 levels deep (arrays, 2 MB)',
    body: () => nested(1_000_000, '[', '', ']'),
    exit: 65,
    line: /^error: body is nested deeper than 64 levels$/,
  },
  {
    name: 'brackets inside strings, 10,000 deep (not nesting)',
    body: () => nested(1, '"', '[{'.repeat(10_000), '"'),
    exit: 0,
    line: /^queued \d+ issues\.opened octo-org\/widgets$/,
    stored: { repository: 'octo-org/widgets', skipReason: NOT_CONFIGURED },
  },
  {
    name: 'escaped NUL (\\u0000) inside strings of the issue',
    body: () => issueWith('nul \\u0000 here\\u0000'),
    exit: 0,
    line: /^queued \d+ issues\.opened octo-org\/widgets$/,
    stored: { repository: 'octo-org/widgets', skipReason: NOT_CONFIGURED },
  },
  {
    name: 'escaped NUL, CR and LF inside repository.full_name and action (echoed in the answer)',
    body: () =>
      Buffer.from(
        JSON.stringify({
          ...issuePayload(7, 'octo-org/widgets\r\nX-Injected: 1\u0000'),
          action: 'opened\nqueued 999 forged',
        }),
      ),
    exit: 0,
    // One line, no control characters: the answer GitHub shows must stay a single, visible line.
    line: /^queued \d+ [^\x00-\x1f\x7f]+$/,
    stored: {
      repository: 'octo-org/widgets\r\nX-Injected: 1\u0000',
      skipReason: 'repository octo-org/widgets\r\nX-Injected: 1\u0000 is not configured',
    },
  },
  {
    name: 'a raw NUL byte inside a string',
    body: () => issueWith(Buffer.from([0x00])),
    exit: 65,
    line: /^error: body is not valid JSON$/,
  },
  {
    name: 'a top-level array',
    body: () => Buffer.from(JSON.stringify([issuePayload(7)])),
    exit: 65,
    line: /^error: body is not a JSON object$/,
  },
  {
    name: 'a top-level null',
    body: () => Buffer.from('null'),
    exit: 65,
    line: /^error: body is not a JSON object$/,
  },
  {
    name: 'a 26 MiB body (file)',
    body: () =>
      Buffer.from(JSON.stringify(issuePayload(7, 'octo-org/widgets', { filler: 'x'.repeat(26 * 1024 * 1024) }))),
    exit: 65,
    line: new RegExp(`^error: body is larger than ${MAX_BODY_BYTES} bytes \\(GitHub's 25 MiB payload cap\\)$`),
  },
  {
    name: 'a 26 MiB body (stdin)',
    body: () =>
      Buffer.from(JSON.stringify(issuePayload(7, 'octo-org/widgets', { filler: 'x'.repeat(26 * 1024 * 1024) }))),
    stdin: true,
    exit: 65,
    line: new RegExp(`^error: body is larger than ${MAX_BODY_BYTES} bytes \\(GitHub's 25 MiB payload cap\\)$`),
  },
  {
    name: 'an issues payload without repository',
    body: () => {
      const payload = issuePayload(7);
      delete payload.repository;
      return Buffer.from(JSON.stringify(payload));
    },
    exit: 0,
    line: /^queued \d+ issues\.opened -$/,
    stored: { repository: null, skipReason: 'repository (none) is not configured' },
  },
  {
    name: 'an unknown event name (foo_bar)',
    event: 'foo_bar',
    body: () => Buffer.from(JSON.stringify(issuePayload(7))),
    exit: 0,
    line: /^queued \d+ foo_bar\.opened octo-org\/widgets$/,
    stored: { repository: 'octo-org/widgets', skipReason: 'no handler' },
  },
  {
    name: 'an empty body',
    body: () => Buffer.alloc(0),
    exit: 65,
    line: /^error: body is not valid JSON$/,
  },
  {
    name: 'a body of only whitespace',
    body: () => Buffer.from(' \n\t\r\n  '),
    exit: 65,
    line: /^error: body is not valid JSON$/,
  },
];

/** No stack trace, no uncaught-exception banner. */
function expectNoCrash(result: RunResult): void {
  const output = `${result.stdout}\n${result.stderr}`;
  expect(output).not.toMatch(/\n\s+at \S/);
  expect(output).not.toMatch(/\b(?:RangeError|TypeError|SyntaxError|Uncaught|FATAL ERROR)\b/);
  expect(result.signal).toBeNull();
}

let counter = 0;

describe('hostile input through hls queue and hls worker --once (no config)', () => {
  for (const c of CASES) {
    describe(c.name, () => {
      const dir = tempDir('hls-hostile-');
      const db = newDatabase(dir);
      const delivery = `hostile-${process.pid}-${++counter}`;
      let body: Buffer = Buffer.alloc(0);
      let queued: RunResult;

      beforeAll(async () => {
        body = c.body();
        const file = c.stdin ? '-' : writeBody(dir, 'body.json', body);
        const child = startHls(['queue', '--event', c.event ?? 'issues', '--delivery', delivery, '--body-file', file], {
          env: { HLS_DB: db },
          cwd: dir,
        });
        // hls queue stops reading an oversized stdin and exits: the rest of the write fails with EPIPE.
        child.stdin!.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code !== 'EPIPE') throw error;
        });
        queued = await finished(child, c.stdin ? body : undefined);
      }, 60_000);

      // A known bug keeps this test red: see `bug` in the table.
      (c.bug ? it.fails : it)(`hls queue exits ${c.exit} with one line${c.bug ? ` (KNOWN BUG: ${c.bug})` : ''}`, () => {
        expectNoCrash(queued);
        expect(queued.stderr).toBe('');
        expect(queued.stdout.endsWith('\n'), JSON.stringify(queued.stdout)).toBe(true);
        const lines = queued.stdout.slice(0, -1).split('\n');
        expect(lines, JSON.stringify(queued.stdout)).toHaveLength(1);
        expect(lines[0]).toMatch(c.line);
        expect(queued.code, queued.stdout).toBe(c.exit);
      });

      if (!c.stored) {
        it('stores nothing', () => {
          if (storeCreated(db)) expect(query(db, 'SELECT count(*) AS n FROM webhook_events')).toEqual([{ n: 0 }]);
        });
        return;
      }

      it('stores the body byte for byte, once', () => {
        expect(queued.code, queued.stdout).toBe(0);
        const rows = query<EventRow>(db, 'SELECT * FROM webhook_events');
        expect(rows).toHaveLength(1);
        const row = rows[0]!;
        expect(row.delivery_id).toBe(delivery);
        expect(row.event_type).toBe(c.event ?? 'issues');
        expect(row.repository).toBe(asStored(c.stored!.repository));
        expect(row.payload_size).toBe(body.length);
        expect(row.payload.equals(body), 'stored payload is byte-identical').toBe(true);
        expect(row.payload_sha256).toBe(createHash('sha256').update(body).digest('hex'));
        expect(row.status).toBe('pending');
      });

      it(`hls worker --once exits 0 and skips it: ${JSON.stringify(c.stored.skipReason)}`, async () => {
        const worker = await runHls(['worker', '--once', '--id', 'hostile'], { env: { HLS_DB: db }, cwd: dir });
        expectNoCrash(worker);
        expect(worker.code, worker.stderr).toBe(0);
        expect(worker.stderr).not.toMatch(/"level":"(?:error|fatal)"/);
        const [row] = query<EventRow>(db, 'SELECT status, skip_reason, error_class, attempts FROM webhook_events');
        expect(row).toMatchObject({
          status: 'skipped',
          skip_reason: asStored(c.stored!.skipReason),
          error_class: null,
          attempts: 1,
        });
      }, 60_000);
    });
  }
});
