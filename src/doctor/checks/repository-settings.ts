import { githubAccess, githubCredentials } from '../../clients/github-access.js';
import type { CommandContext } from '../../commands/command-context.js';
import { describeSettingsFile } from '../../repository-settings/describe.js';
import { hasGitHubClient, operatorSettingsOf } from '../../repository-settings/effective.js';
import { fetchSettingsFile, SETTINGS_FILE_ACCESS } from '../../repository-settings/fetch.js';
import { narrowSettings, SETTINGS_PATH } from '../../repository-settings/narrow.js';
import { ok, skip, warn, type Check } from '../check.js';
import { describeGitHubFailure } from './github.js';
import { NETWORK_TIMEOUT_MS, publicUrl } from './network.js';

const NAME = 'repository settings';

/**
 * Reads each enabled repository's .github/hls.yml now (not from the database's copy): one WARN line per
 * repository whose file is invalid, has ignored keys or could not be read; one OK line for the others.
 */
export async function checkRepositorySettings(
  context: CommandContext | undefined,
  env: NodeJS.ProcessEnv,
): Promise<Check[]> {
  if (!context) return [skip(NAME, 'the config did not load')];
  const { config, log } = context;
  const repositories = config.repositories.filter((repo) => repo.enabled);
  if (repositories.length === 0) return [];
  if (!hasGitHubClient(config, env)) {
    return [skip(NAME, `no GitHub token or App: ${SETTINGS_PATH} is not read, the operator's settings apply`)];
  }
  // No shared rate-limit gate (no database), as for the other doctor checks.
  const access = githubAccess(config, githubCredentials(config, env)!, log, env);
  const base = publicUrl(config.github.api_url ?? (env.GITHUB_API_URL || 'https://api.github.com'));
  const request = { retries: 0, signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS) };
  const checks: Check[] = [];
  const fine = { valid: 0, absent: 0 };
  for (const repo of repositories) {
    const name = `${NAME} ${repo.name}`;
    let fetched;
    try {
      fetched = await fetchSettingsFile(await access.forRepository(repo.name), repo.name, null, request);
    } catch (error) {
      checks.push(warn(name, `${SETTINGS_PATH} not read: ${describeGitHubFailure(error, base, SETTINGS_FILE_ACCESS)}`));
      continue;
    }
    const file = fetched.kind === 'found' ? { sha: fetched.sha, content: fetched.content } : undefined;
    const settings = narrowSettings(operatorSettingsOf(config, repo), file);
    const state = settings.file;
    if (state.state === 'invalid' || (state.state === 'valid' && state.ignored.length > 0)) {
      checks.push(warn(name, describeSettingsFile(state)));
    } else {
      fine[state.state === 'valid' ? 'valid' : 'absent']++;
    }
  }
  const checked = fine.valid + fine.absent;
  if (checked > 0) {
    const repositories = checked === 1 ? 'repository' : 'repositories';
    checks.push(
      ok(NAME, `${checked} ${repositories}: ${fine.valid} with a valid ${SETTINGS_PATH}, ${fine.absent} without one`),
    );
  }
  return checks;
}
