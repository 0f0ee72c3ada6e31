// Synchronous reads of a test's PostgreSQL database, like better-sqlite3's on SQLite: the query runs on
// a worker thread (test/helpers/postgres-reader.mjs) while the test's thread waits on an Atomics signal.
// A psql process per read costs ~0.3 s on a loaded 2-core machine, and tests poll the database.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

const TIMEOUT_MS = 30_000;

interface Reader {
  port: MessagePort;
  signal: Int32Array;
}

let reader: Reader | undefined;

function startReader(): Reader {
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const thread = new Worker(new URL('./postgres-reader.mjs', import.meta.url), {
    workerData: { signal, port: port2 },
    transferList: [port2],
  });
  thread.unref();
  return { port: port1, signal };
}

/** `sql` with each `?` placeholder outside quotes numbered `$1`, `$2`, … as PostgreSQL takes them. */
export function numberPlaceholders(sql: string): string {
  let numbered = '';
  let quote: string | undefined;
  let next = 0;
  for (const char of sql) {
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '?') {
      numbered += `$${++next}`;
      continue;
    }
    numbered += char;
  }
  return numbered;
}

/**
 * The rows of `sql` (`?` placeholders bound to `params`) on the database at `url`: bigint and numeric
 * as numbers, bytea as Buffers.
 */
export function queryPostgres<T>(url: string, sql: string, params: unknown[]): T[] {
  reader ??= startReader();
  Atomics.store(reader.signal, 0, 0);
  reader.port.postMessage({ url, sql: numberPlaceholders(sql), params });
  if (Atomics.wait(reader.signal, 0, 0, TIMEOUT_MS) === 'timed-out') {
    throw new Error(`query: no answer from PostgreSQL within ${TIMEOUT_MS} ms: ${sql}`);
  }
  const reply = receiveMessageOnPort(reader.port)?.message as { rows?: Record<string, unknown>[]; error?: string };
  if (reply.error !== undefined) throw new Error(`query: ${reply.error}: ${sql}`);
  for (const row of reply.rows!) {
    for (const [column, value] of Object.entries(row)) {
      if (value instanceof Uint8Array) row[column] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    }
  }
  return reply.rows as T[];
}
