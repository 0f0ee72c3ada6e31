// One worker process of bench/claim.mjs: opens its own store at argv[2] (one connection), says `ready`,
// and on `go` (with a time limit in ms) claims and completes events one at a time until none is due or
// the time is up; then reports how many it completed.
import { openStore } from '../dist/store/open-store.js';

const [target, worker] = process.argv.slice(2);
const store = await openStore(target, { maxConnections: 1 });
process.once('message', async ({ limitMs }) => {
  const deadline = performance.now() + limitMs;
  let claimed = 0;
  for (let event; performance.now() < deadline && (event = await store.queue.claim(worker, 60_000)); claimed++) {
    await store.queue.finish({ id: event.id, worker, attempt: event.attempts }, { status: 'completed' });
  }
  await store.close();
  process.send({ claimed }, () => process.disconnect());
});
process.send('ready');
