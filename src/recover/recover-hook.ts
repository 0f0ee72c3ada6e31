import { readLog } from './deliveries.js';
import { missingLine, summaryLine } from './output.js';
import { planRecovery } from './plan.js';
import type { HookResult, MissingDelivery, Page, Recovery, Target } from './types.js';

/** Reads the hook's deliveries within the window, redelivers the missing ones and prints the result. */
export async function recoverHook(recovery: Recovery, target: Target, first?: Page): Promise<void> {
  const { options } = recovery;
  const deliveries = await readLog(recovery.github, target, options.sinceMs, first);
  const { groups, stored, missing } = await planRecovery(recovery.store, deliveries);
  const result: HookResult = {
    scope: target.scope,
    name: target.name,
    hook_id: target.hookId,
    checked: groups.size,
    stored: stored.size,
    missing: missing.length,
    redelivered: 0,
    deliveries: [],
  };
  recovery.results.push(result);
  for (const group of missing) {
    const d = group.latest;
    const entry: MissingDelivery = {
      guid: d.guid,
      delivery_id: d.id,
      event: d.event,
      action: d.action,
      delivered_at: d.delivered_at,
      status_code: d.status_code,
      status: d.status,
      attempts: group.attempts,
      redelivered: false,
    };
    result.deliveries.push(entry);
    if (!options.dryRun) {
      await recovery.redeliver(recovery.github, target, d.id);
      entry.redelivered = true;
      result.redelivered++;
    }
    options.emit([missingLine(target, entry, options.dryRun)]);
  }
  options.emit([summaryLine(result, options.dryRun)]);
}
