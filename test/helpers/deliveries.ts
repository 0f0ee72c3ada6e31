// A burst of signed deliveries with redeliveries mixed in, as the load and two-host suites send it: the
// bodies, the send order, and the senders.
import { issuePayload } from './payloads.js';
import type { DeliveryResult } from './relay.js';

export interface Send {
  /** Index of the distinct delivery (0..deliveries-1). */
  index: number;
  redelivery: boolean;
}

export interface Sent {
  send: Send;
  result: DeliveryResult;
}

/** A small issues.opened payload of issue index+1 in `repository`; each one different, with multi-byte text. */
export function issueBody(index: number, repository: string): Buffer {
  const number = index + 1;
  const payload = issuePayload(number, repository);
  const issue = payload.issue as Record<string, unknown>;
  issue.title = `Widget #${number} crashes on start — «${index % 7 === 0 ? 'grüße' : 'config'}»`;
  issue.body =
    `Steps to reproduce (${number}): start the widget with \`--config ./w${number}.yml\`.\n` +
    `Expected: it runs. Actual: it crashes with "E${1000 + (index % 97)}" ✗ 日本語 <b>&amp;</b>.`;
  issue.id = 2_900_000_000 + number;
  issue.created_at = new Date(Date.UTC(2026, 10, 23, 12, 0, index % 60)).toISOString();
  return Buffer.from(JSON.stringify(payload));
}

/**
 * The send order: every delivery once, and `redeliveries` evenly spread redeliveries, each one of an
 * original sent ten deliveries earlier (so its answer is usually in, as GitHub redelivers an answered one).
 */
export function sendPlan(deliveries: number, redeliveries: number): Send[] {
  const order: Send[] = [];
  const every = deliveries / redeliveries;
  for (let index = 0; index < deliveries; index++) {
    order.push({ index, redelivery: false });
    const original = index - 9;
    if (original >= 0 && original % every === 0) order.push({ index: original, redelivery: true });
  }
  return order;
}

/**
 * Sends `order` with `concurrency` senders, each with at most one request in flight; a redelivery waits
 * for its original's answer. After `maxProblems` errors or non-2xx answers they stop, so a broken relay
 * fails the test in seconds.
 */
export async function sendAll(
  order: Send[],
  concurrency: number,
  maxProblems: number,
  deliver: (send: Send) => Promise<DeliveryResult>,
): Promise<{ results: Sent[]; failures: string[] }> {
  const originals = new Map<number, Promise<DeliveryResult>>();
  const results: Sent[] = [];
  const failures: string[] = [];
  let next = 0;
  let problems = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < order.length && problems < maxProblems) {
        const send = order[next++]!;
        try {
          if (send.redelivery) await originals.get(send.index);
          const request = deliver(send);
          if (!send.redelivery) originals.set(send.index, request);
          const result = await request;
          if (result.status < 200 || result.status >= 300) problems++;
          results.push({ send, result });
        } catch (error) {
          problems++;
          failures.push(`${send.redelivery ? 'redelivery' : 'delivery'} ${send.index}: ${(error as Error).message}`);
        }
      }
    }),
  );
  return { results, failures };
}
