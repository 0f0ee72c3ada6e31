import { describeGitHubError } from '../clients/github.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { Target } from './types.js';

export const ACCESS_HINT =
  'check the token: reading and redelivering hook deliveries needs admin access to the repository, or organisation owner for an organisation hook';

export function base(target: Target): string {
  return target.scope === 'repository' ? '/repos/{owner}/{repo}' : '/orgs/{org}';
}

/** The route of a hook's delivery log; `/app/hook/deliveries` for the App's webhook (JWT). */
export function deliveriesRoute(target: Target): string {
  return target.scope === 'app' ? '/app/hook/deliveries' : `${base(target)}/hooks/{hook_id}/deliveries`;
}

export function pathParams(target: Target): Record<string, string | number> {
  if (target.scope === 'app') return {};
  if (target.scope === 'organization') return { org: target.name, hook_id: target.hookId };
  const [owner, repo] = target.name.split('/') as [string, string];
  return { owner, repo, hook_id: target.hookId };
}

/** Runs a GitHub call for a hook, turning its failure into a CliError that names the hook. */
export async function guardedFor<T>(target: Target, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw failure(target, error);
  }
}

/** Runs a GitHub call, turning its failure into a CliError that names `what`. */
export async function guarded<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new CliError(`recover ${what}: ${describeGitHubError(error, ACCESS_HINT)}`, EXIT.UNAVAILABLE);
  }
}

export function failure(target: Target, error: unknown): CliError {
  if (error instanceof CliError) return error;
  return new CliError(
    `recover ${target.name} hook ${target.hookId}: ${describeGitHubError(error, ACCESS_HINT)}`,
    EXIT.UNAVAILABLE,
  );
}
