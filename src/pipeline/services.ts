import type Anthropic from '@anthropic-ai/sdk';
import { anthropicKey, createAnthropic } from '../clients/anthropic.js';
import { createGitHub, githubToken, tokenSha256, type GitHub } from '../clients/github.js';
import type { LoadedConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';

export interface Services {
  github: GitHub | undefined;
  anthropic: Anthropic | undefined;
  tokenSha256: string | undefined;
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
    const token = githubToken(config, env);
    const key = anthropicKey(config, env);
    made = {
      github: token ? createGitHub(config, token, log, env, store) : undefined,
      anthropic: key ? createAnthropic(config, key, env, { store, log }) : undefined,
      tokenSha256: token ? tokenSha256(token) : undefined,
      anthropicKeySha256: key ? tokenSha256(key) : undefined,
    };
    perConfig.set(config, made);
  }
  return made;
}

/** github.bot_login, else the token's login, asked of GitHub once and kept in the database. */
export async function botLogin(store: Store, config: LoadedConfig, made: Services): Promise<string | undefined> {
  if (config.github.bot_login) return config.github.bot_login;
  if (!made.github || !made.tokenSha256) return undefined;
  const known = await store.cache.knownLogin(made.tokenSha256);
  if (known) return known;
  const { data } = await made.github.users.getAuthenticated();
  await store.cache.storeLogin(made.tokenSha256, data.login);
  return data.login;
}
