import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './hls.js';

/** A module of the build the worker runs (dist/, from `npm run build`), so both sides share one schema. */
const built = (path: string): Promise<any> => import(pathToFileURL(join(ROOT, 'dist', path)).href);

/**
 * Queues deliveries with the store's own enqueue, what `hls queue` does for each (queue.test.ts covers the
 * command; spawning it for every delivery of a long suite would cost most of its time budget).
 */
export function directQueue(prefix: string) {
  let store: { queue: { enqueue(event: unknown): Promise<number | null> }; close(): Promise<void> } | undefined;
  let deliveries = 0;
  return {
    async enqueue(db: string, eventType: string, payload: Record<string, unknown>): Promise<number> {
      const { openStore } = await built('store/open-store.js');
      const { describeEvent } = await built('intake/describe.js');
      store ??= await openStore(db, { create: true });
      const raw = Buffer.from(JSON.stringify(payload));
      return (await store!.queue.enqueue({
        deliveryId: `${prefix}-${process.pid}-${++deliveries}`,
        eventType,
        ...describeEvent(eventType, payload),
        hookId: null,
        payload: raw,
        payloadSha256: createHash('sha256').update(raw).digest('hex'),
        signature: null,
      }))!;
    },
    async close(): Promise<void> {
      await store?.close();
      store = undefined;
    },
  };
}
