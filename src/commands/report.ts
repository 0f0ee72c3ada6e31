import type { LoadedConfig } from '../config/load.js';
import { printOrReplace } from '../write-atomic.js';
import { reportData } from '../report/data.js';
import { renderReport } from '../report/html.js';
import { commandContext, describeTarget, withStore, type GlobalOptions } from './command-context.js';

export interface ReportFlags extends GlobalOptions {
  days: number;
  output?: string;
  json?: boolean;
}

/**
 * `hls report`: the last `days` UTC days as one self-contained HTML page (or, with --json, the data it
 * draws), on stdout or, with --output, replacing the file atomically.
 */
export async function runReport(flags: ReportFlags): Promise<number> {
  const { config, database } = commandContext(flags);
  const snapshot = await withStore(database, (store) => store.admin.readReport(flags.days));
  const data = reportData(snapshot, {
    database: describeTarget(database),
    days: flags.days,
    dailyBudgetUsd: config.claude.daily_budget_usd ?? null,
    repositoryBudgets: repositoryBudgets(config),
  });
  const text = flags.json ? `${JSON.stringify(data, null, 2)}\n` : renderReport(data);
  return printOrReplace(text, flags.output);
}

function repositoryBudgets(config: LoadedConfig): { repository: string; daily_usd: number }[] {
  return config.repositories.flatMap((repo) =>
    repo.daily_budget_usd === undefined ? [] : [{ repository: repo.name, daily_usd: repo.daily_budget_usd }],
  );
}
