import type { GitHub } from '../clients/github.js';
import { deliveriesRoute, guardedFor, pathParams } from './api.js';
import type { Target } from './types.js';

/**
 * A function that POSTs …/deliveries/{id}/attempts (202), each call at least `paceMs` after the
 * previous one ended.
 */
export function pacedRedeliver(paceMs: number): (github: GitHub, target: Target, deliveryId: number) => Promise<void> {
  let lastWriteAt = 0;
  return async (github, target, deliveryId) => {
    const wait = lastWriteAt + paceMs - Date.now();
    if (lastWriteAt > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      await guardedFor(target, () =>
        github.request(`POST ${deliveriesRoute(target)}/{delivery_id}/attempts`, {
          ...pathParams(target),
          delivery_id: deliveryId,
        }),
      );
    } finally {
      lastWriteAt = Date.now();
    }
  };
}
