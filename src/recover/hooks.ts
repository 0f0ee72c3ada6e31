import type { GitHub } from '../clients/github.js';
import { CliError, EXIT } from '../exit-codes.js';
import { base, failure, guarded, pathParams } from './api.js';
import { listPage } from './deliveries.js';
import type { Page, Recovery, Scope, Target } from './types.js';

interface Hook {
  id: number;
  active: boolean;
  config: { url?: string };
}

/**
 * The hooks to read for a repository or organisation: --hook-id; else (repositories) the hook ids
 * stored with its events, trying the owner's organisation hooks for an id that is not a repository
 * hook; else its active webhooks, which must be exactly one (or, for an organisation, those whose
 * ids appear in the database).
 */
export async function resolveHooks(
  recovery: Recovery,
  scope: Scope,
  name: string,
  hookId: number | undefined,
): Promise<{ target: Target; first?: Page }[]> {
  if (hookId !== undefined) return [{ target: { scope, name, hookId } }];
  if (scope === 'repository') {
    const found: { target: Target; first: Page }[] = [];
    for (const id of await recovery.store.queue.hookIdsForRepository(name)) {
      const probed = await probeStoredHook(recovery, name, id);
      if (probed) found.push(probed);
    }
    if (found.length > 0) return found;
  }
  const hooks = await guarded(`${name} hooks`, () => listHooks(recovery.github, scope, name));
  const candidates = hooks.filter((hook) => hook.active && typeof hook.config?.url === 'string');
  if (scope === 'organization' && candidates.length > 1) {
    // An organisation's events carry no repository to look its hook up by; its stored ids will do.
    const seen = await recovery.store.queue.seenHookIds(candidates.map((hook) => hook.id));
    const used = candidates.filter((hook) => seen.has(hook.id));
    if (used.length > 0) return used.map((hook) => ({ target: { scope, name, hookId: hook.id } }));
  }
  if (candidates.length === 0) {
    const hint =
      scope === 'repository' ? ` (if an organisation webhook sends its events, use --org ${name.split('/')[0]})` : '';
    const reason = `no active webhook found${hint}`;
    recovery.unresolved.push({ scope, name, reason });
    recovery.options.emit([`${name}: ${reason}; nothing checked`]);
    return [];
  }
  if (candidates.length > 1) {
    const list = candidates.map((hook) => `${hook.id} ${shownUrl(hook.config.url!)}`).join(', ');
    const flag = scope === 'repository' ? `--repo ${name}` : `--org ${name}`;
    throw new CliError(
      `${name} has ${candidates.length} active webhooks (${list}) and none of them appears in the database: choose one with ${flag} --hook-id ID`,
      EXIT.USAGE,
    );
  }
  return [{ target: { scope, name, hookId: candidates[0]!.id } }];
}

/** A hook id stored with a repository's events: a hook of the repository, of its owner, or gone. */
async function probeStoredHook(
  recovery: Recovery,
  repository: string,
  hookId: number,
): Promise<{ target: Target; first: Page } | undefined> {
  const asRepo: Target = { scope: 'repository', name: repository, hookId };
  const asOrg: Target = { scope: 'organization', name: repository.split('/')[0]!, hookId };
  for (const target of [asRepo, asOrg]) {
    try {
      return { target, first: await listPage(recovery.github, target, {}) };
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw failure(target, error);
    }
  }
  recovery.log.warn(`hook ${hookId} seen in the database for ${repository} is not one of its webhooks any more`, {
    repository,
    hook_id: hookId,
  });
  return undefined;
}

async function listHooks(github: GitHub, scope: Scope, name: string): Promise<Hook[]> {
  const target: Target = { scope, name, hookId: 0 };
  const { hook_id: _unused, ...params } = pathParams(target);
  return (await github.paginate(`GET ${base(target)}/hooks`, { ...params, per_page: 100 })) as Hook[];
}

/** A hook URL without credentials or query, which may carry secrets. */
function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
