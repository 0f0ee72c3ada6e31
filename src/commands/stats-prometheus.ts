import type { LoadedConfig } from '../config/load.js';
import { CliError, EXIT } from '../exit-codes.js';
import { renderExposition } from '../metrics/exposition.js';
import { hlsMetricFamilies } from '../metrics/families.js';
import { writeTextfile } from '../metrics/textfile.js';
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
  if (flags.output === undefined) {
    process.stdout.write(text);
    return EXIT.OK;
  }
  try {
    writeTextfile(flags.output, text);
  } catch (error) {
    throw new CliError(`cannot write ${flags.output}: ${(error as Error).message}`, EXIT.CANT_CREATE);
  }
  return EXIT.OK;
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
