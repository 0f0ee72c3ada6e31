import type { LoadedConfig } from '../config/load.js';
import { renderExposition } from '../metrics/exposition.js';
import { hlsMetricFamilies } from '../metrics/families.js';
import { printOrReplace } from '../write-atomic.js';
import type { BudgetScope } from '../store/types.js';
import { commandContext, withStore, type GlobalOptions } from './command-context.js';

/**
 * `hls stats --format prometheus`: the metrics in the text exposition format, on stdout or, with
 * `--output`, atomically into a file for node_exporter's textfile collector (then nothing is printed).
 */
export async function runStatsPrometheus(flags: GlobalOptions & { output?: string }): Promise<number> {
  const { config, database } = commandContext(flags);
  const snapshot = await withStore(database, (store) => store.admin.collectMetrics(budgetScopes(config)));
  const text = renderExposition(hlsMetricFamilies(snapshot));
  return printOrReplace(text, flags.output);
}

/** claude.daily_budget_usd (scope "all") and each repository's daily_budget_usd. */
function budgetScopes(config: LoadedConfig): BudgetScope[] {
  const scopes: BudgetScope[] = [];
  if (config.claude.daily_budget_usd !== undefined) {
    scopes.push({ scope: 'all', dailyUsd: config.claude.daily_budget_usd });
  }
  for (const repo of config.repositories) {
    if (repo.daily_budget_usd !== undefined) {
      scopes.push({ scope: repo.name, repository: repo.name, dailyUsd: repo.daily_budget_usd });
    }
  }
  return scopes;
}
