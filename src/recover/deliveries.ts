import type { GitHub } from '../clients/github.js';
import { deliveriesRoute, guardedFor, pathParams } from './api.js';
import type { Delivery, Page, Target } from './types.js';

const PER_PAGE = 100;

/** Pages through the log, newest first, until a delivery is older than the window. */
export async function readLog(github: GitHub, target: Target, sinceMs: number, first?: Page): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  let page = first ?? (await guardedFor(target, () => listPage(github, target, {})));
  const followed = new Set<string>();
  for (;;) {
    for (const delivery of page.data) {
      if (Date.parse(delivery.delivered_at) < sinceMs) return deliveries;
      deliveries.push(delivery);
    }
    const next = nextPageParams(page.link);
    if (!next) return deliveries;
    const key = JSON.stringify(next);
    if (followed.has(key)) return deliveries;
    followed.add(key);
    page = await guardedFor(target, () => listPage(github, target, next));
  }
}

/** One page of a hook's delivery log. */
export async function listPage(github: GitHub, target: Target, params: Record<string, string>): Promise<Page> {
  const response = await github.request(`GET ${deliveriesRoute(target)}`, {
    ...pathParams(target),
    per_page: PER_PAGE,
    ...params,
  });
  return { data: response.data as Delivery[], link: response.headers.link };
}

/** The query of the `rel="next"` link (GitHub pages deliveries with a `cursor`), or undefined at the end. */
function nextPageParams(link: string | undefined): Record<string, string> | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return Object.fromEntries(new URL(match[1]!).searchParams);
  }
  return undefined;
}
