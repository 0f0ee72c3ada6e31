import type Anthropic from '@anthropic-ai/sdk';
import { anthropicKey, createAnthropic } from '../clients/anthropic.js';
import { githubAccess, githubCredentials, type GitHubAccess } from '../clients/github-access.js';
import { tokenSha256 } from '../clients/github.js';
import type { LoadedConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';

export interface Services {
  /** A handler asks it for its repository's client (`forRepository`). */
  github: GitHubAccess | undefined;
  anthropic: Anthropic | undefined;
  anthropicKeySha256: string | undefined;
}

const perConfig = new WeakMap<LoadedConfig, Services>();

/**
 * API clients, made once per worker process and bound to its database (shared rate limits); either is
 * undefined when its key is not configured.
 */
export function services(
  config: LoadedConfig,
  log: Logger,
  store: Store,
  env: NodeJS.ProcessEnv = process.env,
): Services {
  let made = perConfig.get(config);
  if (!made) {
    const credentials = githubCredentials(config, env);
    const key = anthropicKey(config, env);
    made = {
      github: credentials ? githubAccess(config, credentials, log, env, store) : undefined,
      anthropic: key ? createAnthropic(config, key, env, { store, log }) : undefined,
      anthropicKeySha256: key ? tokenSha256(key) : undefined,
    };
    perConfig.set(config, made);
  }
  return made;
}

/** github.bot_login, else the login of the token or App, asked of GitHub once and kept in the database. */
export async function botLogin(store: Store, config: LoadedConfig, made: Services): Promise<string | undefined> {
  return config.github.bot_login ?? made.github?.login(store);
}
