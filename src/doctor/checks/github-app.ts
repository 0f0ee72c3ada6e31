import { AppAccess, githubCredentials } from '../../clients/github-access.js';
import type { CommandContext } from '../../commands/command-context.js';
import { CliError } from '../../exit-codes.js';
import { fail, ok, warn, type Check } from '../check.js';
import { describeGitHubFailure } from './github.js';
import { NETWORK_TIMEOUT_MS, publicUrl } from './network.js';

/** The installation permissions hls needs (what the App manifest asks for). */
export const REQUIRED_PERMISSIONS = {
  issues: 'write',
  pull_requests: 'write',
  metadata: 'read',
  actions: 'read',
} as const;

/** Permissions without which hls still runs, less well: what each one gives. */
export const RECOMMENDED_PERMISSIONS = {
  contents: { level: 'read', for: ".github/hls.yml is not read, the operator's settings apply" },
} as const;

const LEVELS = ['read', 'write', 'admin'];
const KEY_REFUSED = 'the App refused the JWT: check github.app.id and that the private key is one of the App’s keys';

/**
 * GET /app (the key is accepted), then for each enabled repository its installation and the
 * permissions granted to it: one FAIL line per missing or insufficient permission.
 */
export async function checkGitHubApp(context: CommandContext, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const name = 'github app';
  let credentials;
  try {
    credentials = githubCredentials(context.config, env);
  } catch (error) {
    if (error instanceof CliError) return [fail(name, error.message)];
    throw error;
  }
  if (credentials?.kind !== 'app') return [];
  const access = new AppAccess(context.config, credentials, context.log, env);
  const base = publicUrl(context.config.github.api_url ?? (env.GITHUB_API_URL || 'https://api.github.com'));
  const request = { retries: 0, signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS) };
  try {
    const { data } = await access.app.rest.apps.getAuthenticated({ request });
    const checks = [ok(name, `${data!.slug}[bot] (App ${credentials.appId}) on ${base}`)];
    for (const repo of context.config.repositories.filter((r) => r.enabled)) {
      checks.push(...(await checkInstallation(access, repo.name, base, request)));
    }
    return checks;
  } catch (error) {
    return [fail(name, describeGitHubFailure(error, base, KEY_REFUSED))];
  }
}

async function checkInstallation(
  access: AppAccess,
  repository: string,
  base: string,
  request: object,
): Promise<Check[]> {
  const name = `github app ${repository}`;
  const [owner, repo] = repository.split('/') as [string, string];
  try {
    const { data } = await access.app.rest.apps.getRepoInstallation({ owner, repo, request });
    const granted = (data.permissions ?? {}) as Record<string, string | undefined>;
    const lacks = (permission: string, level: string) =>
      LEVELS.indexOf(granted[permission] ?? '') < LEVELS.indexOf(level);
    const lacking = (permission: string, level: string) =>
      `installation ${data.id} lacks ${permission}: ${level} (has ${granted[permission] ?? 'none'})`;
    const grant = "grant it in the App's permissions and accept the change on the installation";
    const missing = Object.entries(REQUIRED_PERMISSIONS).filter(([permission, level]) => lacks(permission, level));
    const checks =
      missing.length === 0
        ? [ok(name, `installation ${data.id} has ${describe(REQUIRED_PERMISSIONS)}`)]
        : missing.map(([permission, level]) => fail(name, `${lacking(permission, level)}; ${grant}`));
    for (const [permission, { level, for: without }] of Object.entries(RECOMMENDED_PERMISSIONS)) {
      if (lacks(permission, level)) checks.push(warn(name, `${lacking(permission, level)}: ${without}; ${grant}`));
    }
    return checks;
  } catch (error) {
    if ((error as { status?: number }).status === 404) {
      return [fail(name, `the App is not installed on ${repository}: install it (Settings → Install App)`)];
    }
    return [fail(name, describeGitHubFailure(error, base, KEY_REFUSED))];
  }
}

function describe(permissions: Record<string, string>): string {
  return Object.entries(permissions)
    .map(([permission, level]) => `${permission}: ${level}`)
    .join(', ');
}
