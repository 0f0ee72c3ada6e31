import type { GitHubAccess } from '../clients/github-access.js';
import { githubToken } from '../clients/github.js';
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

const NO_GITHUB_CLIENT = 'no GitHub token or App configured';

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
  /** A failed request throws instead of keeping what the database has (hls render). */
  strict?: boolean;
}): Promise<NarrowedSettings> {
  const { config, repo, store, access, log, strict } = args;
  if (!access) return unreadSettings(config, repo);
  const file = await currentSettingsFile({
    store,
    github: () => access.forRepository(repo.name),
    repository: repo.name,
    ttlMs: config.github.settings_file_ttl_seconds * 1000,
    log,
    strict,
  });
  return narrowSettings(operatorSettingsOf(config, repo), file);
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

/**
 * The settings as the database last had them, without asking GitHub (`hls show`); undefined while the
 * file was never read.
 */
export async function storedRepositorySettings(args: {
  config: LoadedConfig;
  repo: RepositoryConfig;
  store: Store;
  env: NodeJS.ProcessEnv;
}): Promise<NarrowedSettings | undefined> {
  const { config, repo, store, env } = args;
  if (!hasGitHubClient(config, env)) return unreadSettings(config, repo);
  const stored = await store.cache.repositoryFile(repo.name, SETTINGS_PATH);
  return stored && narrowSettings(operatorSettingsOf(config, repo), stored);
}

/** Whether a GitHub token or App is configured (without reading an App's key file). */
export function hasGitHubClient(config: LoadedConfig, env: NodeJS.ProcessEnv): boolean {
  return config.github.app !== undefined || githubToken(config, env) !== undefined;
}

/** The operator's settings alone: without a GitHub client no file is read. */
export function unreadSettings(config: LoadedConfig, repo: RepositoryConfig): NarrowedSettings {
  return operatorSettings(operatorSettingsOf(config, repo), { state: 'not read', reason: NO_GITHUB_CLIENT });
}
