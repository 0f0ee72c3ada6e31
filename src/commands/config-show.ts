import { configSchema } from '../config/schema.js';
import type { LoadedConfig } from '../config/load.js';
import { CliError, EXIT } from '../exit-codes.js';
import { repositoryConfig, type RepositoryConfig } from '../pipeline/filter.js';
import { services } from '../pipeline/services.js';
import { describeSettingsFile, fileSource } from '../repository-settings/describe.js';
import {
  hasGitHubClient,
  operatorSettingsOf,
  repositorySettings,
  unreadSettings,
} from '../repository-settings/effective.js';
import type { NarrowedSettings } from '../repository-settings/narrow.js';
import { commandContext, withStore, type GlobalOptions } from './command-context.js';
import { printJson, printLines, table } from './format.js';

export interface ConfigShowFlags extends GlobalOptions {
  repo: string;
  json?: boolean;
}

interface Setting {
  value: unknown;
  /** `operator config`, `default` or `.github/hls.yml@<sha7>`. */
  source: string;
}

/**
 * `hls config show --repo R`: the repository's effective settings (the operator's narrowed by its
 * .github/hls.yml, read again when older than github.settings_file_ttl_seconds), where each came from,
 * and the keys of the file that were ignored (or why the file is invalid).
 */
export async function runConfigShow(flags: ConfigShowFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { config, database, log } = commandContext(flags, env);
  const repo = repositoryConfig(config, flags.repo);
  if (!repo) {
    throw new CliError(`repository ${flags.repo} is not in the config (repositories[].name)`, EXIT.USAGE);
  }
  // Without a client no file is read, so the database is not needed either.
  const settings = hasGitHubClient(config, env)
    ? await withStore(database, (store) =>
        repositorySettings({ config, repo, store, access: services(config, log, store, env).github, log }),
      )
    : unreadSettings(config, repo);
  const report = {
    repository: repo.name,
    file: { ...settings.file, summary: describeSettingsFile(settings.file) },
    settings: effectiveSettings(config, repo, settings),
  };
  if (flags.json) {
    printJson(report);
    return EXIT.OK;
  }
  const { file } = settings;
  const ignored = file.state === 'valid' ? file.ignored : [];
  printLines([
    `repository  ${repo.name}${repo.enabled ? '' : ' (disabled)'}`,
    `file        ${file.state === 'valid' && ignored.length > 0 ? `${describeSettingsFile({ ...file, ignored: [] })}; ignored keys below` : report.file.summary}`,
    '',
    ...table(
      ['setting', 'value', 'from'],
      Object.entries(report.settings).map(([key, setting]) => [key, formatValue(setting.value), setting.source]),
    ),
    ...(ignored.length > 0 ? ['', 'ignored', ...ignored.map((reason) => `  ${reason}`)] : []),
  ]);
  return EXIT.OK;
}

/** Each setting the file may narrow, with its effective value and where that came from. */
function effectiveSettings(
  config: LoadedConfig,
  repo: RepositoryConfig,
  settings: NarrowedSettings,
): Record<string, Setting> {
  const effective = settings.repository;
  const file = settings.file.state === 'valid' ? fileSource(settings.file.sha) : undefined;
  const defaults = configSchema.parse({ repositories: [{ name: repo.name }] });
  const defaultRepo = defaults.repositories[0]!;
  const source = (key: string, isDefault: boolean): string =>
    file && settings.fromFile.includes(key) ? file : isDefault ? 'default' : 'operator config';
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const operatorActions = repo.actions as Record<string, string[] | undefined>;
  const effectiveActions = effective.actions as Record<string, string[] | undefined>;
  const defaultActions = operatorSettingsOf(config, repo).defaultActions;

  const result: Record<string, Setting> = {
    events: { value: effective.events, source: source('events', same(repo.events, defaultRepo.events)) },
  };
  for (const event of effective.events) {
    const key = `actions.${event}`;
    const value = effectiveActions[event] ?? defaultActions[event] ?? null;
    result[key] = { value, source: source(key, operatorActions[event] === undefined) };
  }
  result['labels.allowed'] = {
    value: effective.labels.allowed,
    source: source('labels.allowed', same(repo.labels.allowed, defaultRepo.labels.allowed)),
  };
  for (const key of ['min_body_length', 'debounce_seconds'] as const) {
    result[key] = { value: effective[key], source: source(key, config.filters[key] === defaults.filters[key]) };
  }
  result.daily_budget_usd = {
    value: effective.daily_budget_usd ?? null,
    source: source('daily_budget_usd', repo.daily_budget_usd === undefined),
  };
  result.guidance = { value: effective.guidance, source: source('guidance', true) };
  return result;
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(', ');
  if (typeof value === 'string') {
    const oneLine = value.replace(/\s+/g, ' ');
    return `${JSON.stringify(oneLine.length > 60 ? `${oneLine.slice(0, 60)}…` : oneLine)} (${[...value].length} characters)`;
  }
  return String(value);
}
