// The worker thread behind test/helpers/postgres-sync.ts: one postgres.js connection per database URL;
// runs each query it is sent, posts the rows (or the error) back and wakes the waiting test thread.
import postgres from 'postgres';
import { workerData } from 'node:worker_threads';

const { signal, port } = workerData;

/** bigint (epoch ms, counts) and numeric (sums) as JS numbers, as better-sqlite3 gives them. */
const NUMBERS = { number: { to: 20, from: [20, 1700], serialize: String, parse: Number } };

const connections = new Map();
function connection(url) {
  if (!connections.has(url)) {
    connections.set(url, postgres(url, { max: 1, prepare: false, onnotice: () => {}, types: NUMBERS }));
  }
  return connections.get(url);
}

port.on('message', async ({ url, sql, params }) => {
  let reply;
  try {
    reply = { rows: [...(await connection(url).unsafe(sql, params))] };
  } catch (error) {
    reply = { error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
