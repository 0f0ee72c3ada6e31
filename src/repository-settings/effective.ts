import type { GitHubAccess } from '../clients/github-access.js';
import type { LoadedConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import { DEFAULT_ACTIONS } from '../pipeline/handlers/specs.js';
import type { RepositoryConfig } from '../pipeline/filter.js';
import type { Store } from '../store/store.js';
import { currentSettingsFile } from './current.js';
import { describeSettingsFile } from './describe.js';
import {
  narrowSettings,
  operatorSettings,
  SETTINGS_PATH,
  type NarrowedSettings,
  type OperatorSettings,
} from './narrow.js';

export const NO_GITHUB_CLIENT = 'no GitHub token or App configured';

/** The ceiling a repository's file narrows: its config entry, the global filters, the handlers' default actions. */
export function operatorSettingsOf(config: LoadedConfig, repo: RepositoryConfig): OperatorSettings {
  return { repo, filters: config.filters, defaultActions: DEFAULT_ACTIONS };
}

/**
 * A configured repository's effective settings: its .github/hls.yml (read again after
 * github.settings_file_ttl_seconds) narrowing the operator's. Without a GitHub client no file is read.
 */
export async function repositorySettings(args: {
  config: LoadedConfig;
  repo: RepositoryConfig;
  store: Store;
  access: GitHubAccess | undefined;
  log: Logger;
}): Promise<NarrowedSettings> {
  const { config, repo, store, access, log } = args;
  const operator = operatorSettingsOf(config, repo);
  if (!access) return operatorSettings(operator, { state: 'not read', reason: NO_GITHUB_CLIENT });
  const file = await currentSettingsFile({
    store,
    github: () => access.forRepository(repo.name),
    repository: repo.name,
    ttlMs: config.github.settings_file_ttl_seconds * 1000,
    log,
  });
  return narrowSettings(operator, file);
}

/** Logs a file that is invalid or has ignored keys, once per version of it (across every process). */
export async function warnOncePerVersion(
  store: Store,
  log: Logger,
  repository: string,
  settings: NarrowedSettings,
): Promise<void> {
  const { file } = settings;
  const worthSaying = file.state === 'invalid' || (file.state === 'valid' && file.ignored.length > 0);
  if (!worthSaying || !file.sha) return;
  if (await store.cache.markRepositoryFileWarned(repository, SETTINGS_PATH, file.sha)) {
    log.warn(describeSettingsFile(file), {
      repository,
      ...(file.state === 'valid' ? { ignored: file.ignored } : { invalid: file.reason }),
    });
  }
}
