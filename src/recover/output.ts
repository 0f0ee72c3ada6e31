import type { HookResult, MissingDelivery, Recovery, Target } from './types.js';

export function missingLine(target: Target, entry: MissingDelivery, dryRun: boolean): string {
  const event = entry.action ? `${entry.event}.${entry.action}` : entry.event;
  const verb = dryRun ? 'would redeliver' : 'redeliver';
  return `${verb} ${entry.guid} ${event} ${target.name} (delivered ${entry.delivered_at}, status ${entry.status_code})`;
}

export function summaryLine(result: HookResult, dryRun: boolean): string {
  const hook = result.scope === 'app' ? `${result.name} webhook` : `${result.name} hook ${result.hook_id}`;
  const head = `${hook}: ${result.checked} deliveries checked, ${result.stored} stored, ${result.missing} missing`;
  return dryRun ? `${head}, would redeliver ${result.missing} (dry run)` : `${head}, ${result.redelivered} redelivered`;
}

/** The --json document: the window, the mode, each hook's result and the scopes without a hook. */
export function jsonReport(recovery: Recovery): object {
  return {
    since: new Date(recovery.options.sinceMs).toISOString(),
    dry_run: recovery.options.dryRun,
    hooks: recovery.results,
    unresolved: recovery.unresolved,
  };
}
