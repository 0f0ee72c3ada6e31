import { readFileSync } from 'node:fs';
import type { LoadedConfig } from '../config/load.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { createGitHub, githubToken, rateLimitKey, type GitHub, type GitHubCredentials } from './github.js';
import { InstallationTokenCache } from './installation-token-cache.js';

type AppCredentials = Extract<GitHubCredentials, { kind: 'app' }>;

/** github.app (its key read from private_key_file if need be), else github.token / GITHUB_TOKEN. */
export function githubCredentials(config: LoadedConfig, env: NodeJS.ProcessEnv): GitHubCredentials | undefined {
  const app = config.github.app;
  if (app) {
    return {
      kind: 'app',
      appId: app.id!,
      privateKey: app.private_key ?? readKeyFile(app.private_key_file!),
      ...(app.installation_id === undefined ? {} : { installationId: app.installation_id }),
    };
  }
  const token = githubToken(config, env);
  return token ? { kind: 'token', token } : undefined;
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      `github.app.private_key_file ${path}: ${code === 'ENOENT' ? 'not found' : code} (the App's private key, a .pem file)`,
      EXIT.CONFIG,
    );
  }
}

/** What the pipeline and commands ask of GitHub, whether hls runs with a token or as a GitHub App. */
export interface GitHubAccess {
  readonly credentials: GitHubCredentials;
  /** The client for one repository ("owner/name"): the token's, or its installation's. */
  forRepository(repository: string): Promise<GitHub>;
  /** The login hls posts as: the token's user, or the App's `<slug>[bot]`; asked once, kept in the database. */
  login(store: Store): Promise<string>;
}

/** With `store`, every client goes through the rate-limit gate shared by all hls processes. */
export function githubAccess(
  config: LoadedConfig,
  credentials: GitHubCredentials,
  log: Logger,
  env: NodeJS.ProcessEnv,
  store?: Store,
): GitHubAccess {
  if (credentials.kind === 'app') return new AppAccess(config, credentials, log, env, store);
  const github = createGitHub(config, credentials, log, env, store);
  return {
    credentials,
    forRepository: async () => github,
    login: (database) =>
      rememberedLogin(
        database,
        rateLimitKey(credentials),
        async () => (await github.rest.users.getAuthenticated()).data.login,
      ),
  };
}

/**
 * A GitHub App: the App's own client (JWT) finds each repository's installation (once per process),
 * and each installation gets its own client, tokens and rate-limit key.
 */
export class AppAccess implements GitHubAccess {
  /** Authenticated as the App (JWT): /app routes and installation look-ups. */
  readonly app: GitHub;
  private readonly installations = new Map<string, Promise<number>>();
  private readonly clients = new Map<number, GitHub>();
  /** `app:<id>`: the App's login is kept in the database under it. */
  private readonly appKey: string;

  constructor(
    private readonly config: LoadedConfig,
    readonly credentials: AppCredentials,
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv,
    private readonly store?: Store,
  ) {
    const { installationId: _one, ...app } = credentials;
    this.appKey = rateLimitKey(app);
    this.app = createGitHub(config, app, log, env, store);
  }

  /** github.app.installation_id, else GET /repos/{owner}/{repo}/installation (remembered). */
  installationId(repository: string): Promise<number> {
    if (this.credentials.installationId !== undefined) return Promise.resolve(this.credentials.installationId);
    const key = repository.toLowerCase();
    let found = this.installations.get(key);
    if (!found) {
      const [owner, repo] = repository.split('/') as [string, string];
      found = this.app.rest.apps.getRepoInstallation({ owner, repo }).then(({ data }) => data.id);
      found.catch(() => this.installations.delete(key));
      this.installations.set(key, found);
    }
    return found;
  }

  async forRepository(repository: string): Promise<GitHub> {
    return this.forInstallation(await this.installationId(repository));
  }

  forInstallation(installationId: number): GitHub {
    let client = this.clients.get(installationId);
    if (!client) {
      const credentials = { ...this.credentials, installationId, tokens: new InstallationTokenCache() };
      client = createGitHub(this.config, credentials, this.log, this.env, this.store);
      this.clients.set(installationId, client);
    }
    return client;
  }

  login(store: Store): Promise<string> {
    return rememberedLogin(store, this.appKey, async () => {
      const { data } = await this.app.rest.apps.getAuthenticated();
      return `${data!.slug}[bot]`;
    });
  }
}

async function rememberedLogin(store: Store, key: string, ask: () => Promise<string>): Promise<string> {
  const known = await store.cache.knownLogin(key);
  if (known) return known;
  const login = await ask();
  await store.cache.storeLogin(key, login);
  return login;
}
