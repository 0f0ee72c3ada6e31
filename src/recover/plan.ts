import type { Store } from '../store/store.js';
import type { Delivery } from './types.js';

export interface Group {
  latest: Delivery;
  firstAt: number;
  attempts: number;
}

export interface Plan {
  /** The distinct deliveries (by guid) read from the log. */
  groups: Map<string, Group>;
  /** The guids already in the database. */
  stored: Set<string>;
  /** The groups whose guid is not in the database, oldest event first. */
  missing: Group[];
}

/** Which of the deliveries read are missing from the database. */
export async function planRecovery(store: Store, deliveries: Delivery[]): Promise<Plan> {
  const groups = groupByGuid(deliveries);
  const stored = await store.queue.storedDeliveryIds([...groups.keys()]);
  const missing = [...groups.values()].filter((group) => !stored.has(group.latest.guid));
  // Oldest event first, so that the worker sees them in their original order.
  missing.sort((a, b) => a.firstAt - b.firstAt || a.latest.id - b.latest.id);
  return { groups, stored, missing };
}

/** GitHub lists each attempt of an event as its own delivery, all with the event's guid. */
function groupByGuid(deliveries: Delivery[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const delivery of deliveries) {
    const at = Date.parse(delivery.delivered_at);
    const group = groups.get(delivery.guid);
    if (!group) {
      groups.set(delivery.guid, { latest: delivery, firstAt: at, attempts: 1 });
      continue;
    }
    group.attempts++;
    group.firstAt = Math.min(group.firstAt, at);
    const latestAt = Date.parse(group.latest.delivered_at);
    if (at > latestAt || (at === latestAt && delivery.id > group.latest.id)) group.latest = delivery;
  }
  return groups;
}
