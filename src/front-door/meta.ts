import { createGitHub, describeGitHubError, githubApiUrl, githubToken } from '../clients/github.js';
import type { LoadedConfig } from '../config/load.js';
import { publicUrl } from '../doctor/checks/network.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { Logger } from '../log.js';
import { hookRanges, renderAllowlist } from './allowlist.js';
import type { Cidr } from './cidr.js';

export interface Allowlist {
  ranges: Cidr[];
  /** The nginx include for these ranges. */
  text: string;
  /** The API base it came from, without credentials. */
  source: string;
}

/**
 * Reads GitHub's `GET /meta` (no token needed; the configured one is sent when there is one) and renders
 * the include. An unreachable API is exit 69; an answer without a plausible `hooks` list is exit 65.
 */
export async function fetchAllowlist(
  config: LoadedConfig,
  env: NodeJS.ProcessEnv,
  log: Logger,
  request: { signal?: AbortSignal; retries?: number } = {},
): Promise<Allowlist> {
  const source = publicUrl(githubApiUrl(config, env));
  const token = githubToken(config, env);
  const github = createGitHub(config, token ? { kind: 'token', token } : undefined, log, env);
  let meta: unknown;
  try {
    meta = (await github.rest.meta.get({ request })).data;
  } catch (error) {
    throw new CliError(
      `cannot read ${source}/meta: ${describeGitHubError(error, 'check github.api_url / GITHUB_API_URL')}`,
      EXIT.UNAVAILABLE,
    );
  }
  try {
    const ranges = hookRanges(meta);
    return { ranges, text: renderAllowlist(ranges, source), source };
  } catch (error) {
    throw new CliError(`${source}/meta: ${(error as Error).message}`, EXIT.DATA);
  }
}
