import { createGitHub, describeGitHubError, githubToken, type GitHub } from '../clients/github.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { Logger } from '../log.js';
import { hookIdsForRepository, seenHookIds, storedDeliveryIds } from '../store/deliveries.js';
import type { Db } from '../store/open.js';
import { commandContext, openForCommand, type GlobalOptions } from './context.js';
import { printJson, printLines } from './format.js';

const ACCESS_HINT =
  'check the token: reading and redelivering hook deliveries needs admin access to the repository, or organisation owner for an organisation hook';

export interface RecoverFlags extends GlobalOptions {
  /** Window in ms (default 24 h). */
  since?: number;
  repo?: string;
  org?: string;
  hookId?: number;
  dryRun?: boolean;
  json?: boolean;
  /** Minimum time between two redelivery requests (default 1000). */
  paceMs?: number;
}

type Scope = 'repository' | 'organization';

/** A webhook whose delivery log is read: a repository's (`owner/repo`) or an organisation's. */
interface Target {
  scope: Scope;
  name: string;
  hookId: number;
}

/** One entry of a hook's delivery log (GitHub's hook-delivery-item), the fields hls reads. */
interface Delivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
}

export interface MissingDelivery {
  guid: string;
  /** The most recent attempt's delivery id: the one redelivered. */
  delivery_id: number;
  event: string;
  action: string | null;
  delivered_at: string;
  status_code: number;
  status: string;
  attempts: number;
  redelivered: boolean;
}

export interface HookResult {
  scope: Scope;
  name: string;
  hook_id: number;
  /** Distinct deliveries (guids) within the window. */
  checked: number;
  stored: number;
  missing: number;
  redelivered: number;
  deliveries: MissingDelivery[];
}

interface Unresolved {
  scope: Scope;
  name: string;
  reason: string;
}

interface Page {
  data: Delivery[];
  link: string | undefined;
}

const PER_PAGE = 100;

/**
 * `hls recover`: reads the delivery logs of the webhooks that feed hls and asks GitHub to redeliver
 * each delivery whose id is not in the database (events sent while the relay or the disk was down).
 */
export async function runRecover(flags: RecoverFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (flags.repo && flags.org) throw new CliError('pass either --repo or --org, not both', EXIT.USAGE);
  if (flags.hookId !== undefined && !flags.repo && !flags.org) {
    throw new CliError('--hook-id needs --repo OWNER/REPO or --org ORG (hook ids belong to one of them)', EXIT.USAGE);
  }
  if (flags.repo !== undefined && !/^[^/\s]+\/[^/\s]+$/.test(flags.repo)) {
    throw new CliError(`invalid --repo "${flags.repo}": expected OWNER/REPO`, EXIT.USAGE);
  }
  if (flags.org !== undefined && !/^[^/\s]+$/.test(flags.org)) {
    throw new CliError(`invalid --org "${flags.org}": expected an organisation login`, EXIT.USAGE);
  }
  const { config, dbPath, log } = commandContext(flags, env);
  const scopes: { scope: Scope; name: string }[] = flags.org
    ? [{ scope: 'organization', name: flags.org }]
    : flags.repo
      ? [{ scope: 'repository', name: flags.repo }]
      : config.repositories.filter((repo) => repo.enabled).map((repo) => ({ scope: 'repository', name: repo.name }));
  if (scopes.length === 0) {
    throw new CliError('no repositories configured (repositories[]): pass --repo OWNER/REPO or --org ORG', EXIT.USAGE);
  }
  const token = githubToken(config, env);
  if (!token) throw new CliError('recover needs a GitHub token (github.token or GITHUB_TOKEN)', EXIT.CONFIG);
  // Only read: a missing file is a wrong --db, and creating it here could leave it unreadable to the relay.
  const db = openForCommand(dbPath, true);
  const recover = new Recovery(createGitHub(config, token, log, env), db, log, {
    sinceMs: Date.now() - (flags.since ?? 86_400_000),
    dryRun: Boolean(flags.dryRun),
    paceMs: flags.paceMs ?? 1000,
    emit: (lines) => {
      if (!flags.json && lines.length > 0) printLines(lines);
    },
  });
  try {
    const seen = new Set<string>();
    for (const { scope, name } of scopes) {
      const found = await recover.resolve(scope, name, flags.hookId);
      for (const { target, first } of found) {
        const key = `${target.scope}:${target.name.toLowerCase()}:${target.hookId}`;
        if (seen.has(key)) continue;
        seen.add(key);
        await recover.recoverHook(target, first);
      }
    }
    if (flags.json) {
      printJson({
        since: new Date(recover.options.sinceMs).toISOString(),
        dry_run: recover.options.dryRun,
        hooks: recover.results,
        unresolved: recover.unresolved,
      });
    }
    return EXIT.OK;
  } finally {
    db.close();
  }
}

interface RecoveryOptions {
  sinceMs: number;
  dryRun: boolean;
  paceMs: number;
  emit: (lines: string[]) => void;
}

class Recovery {
  readonly results: HookResult[] = [];
  readonly unresolved: Unresolved[] = [];
  private lastWriteAt = 0;

  constructor(
    private readonly github: GitHub,
    private readonly db: Db,
    private readonly log: Logger,
    readonly options: RecoveryOptions,
  ) {}

  /**
   * The hooks to read for a repository or organisation: --hook-id; else (repositories) the hook ids
   * stored with its events, trying the owner's organisation hooks for an id that is not a repository
   * hook; else its active webhooks, which must be exactly one (or, for an organisation, those whose
   * ids appear in the database).
   */
  async resolve(scope: Scope, name: string, hookId: number | undefined): Promise<{ target: Target; first?: Page }[]> {
    if (hookId !== undefined) return [{ target: { scope, name, hookId } }];
    if (scope === 'repository') {
      const found: { target: Target; first: Page }[] = [];
      for (const id of hookIdsForRepository(this.db, name)) {
        const probed = await this.probeStoredHook(name, id);
        if (probed) found.push(probed);
      }
      if (found.length > 0) return found;
    }
    const hooks = await this.guarded(`${name} hooks`, () => this.listHooks(scope, name));
    const candidates = hooks.filter((hook) => hook.active && typeof hook.config?.url === 'string');
    if (scope === 'organization' && candidates.length > 1) {
      // An organisation's events carry no repository to look its hook up by; its stored ids will do.
      const seen = seenHookIds(
        this.db,
        candidates.map((hook) => hook.id),
      );
      const used = candidates.filter((hook) => seen.has(hook.id));
      if (used.length > 0) return used.map((hook) => ({ target: { scope, name, hookId: hook.id } }));
    }
    if (candidates.length === 0) {
      const hint =
        scope === 'repository' ? ` (if an organisation webhook sends its events, use --org ${name.split('/')[0]})` : '';
      const reason = `no active webhook found${hint}`;
      this.unresolved.push({ scope, name, reason });
      this.options.emit([`${name}: ${reason}; nothing checked`]);
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
  private async probeStoredHook(
    repository: string,
    hookId: number,
  ): Promise<{ target: Target; first: Page } | undefined> {
    const asRepo: Target = { scope: 'repository', name: repository, hookId };
    const asOrg: Target = { scope: 'organization', name: repository.split('/')[0]!, hookId };
    for (const target of [asRepo, asOrg]) {
      try {
        return { target, first: await this.listPage(target, {}) };
      } catch (error) {
        if ((error as { status?: number }).status !== 404) throw this.failure(target, error);
      }
    }
    this.log.warn(`hook ${hookId} seen in the database for ${repository} is not one of its webhooks any more`, {
      repository,
      hook_id: hookId,
    });
    return undefined;
  }

  /** Reads the hook's deliveries within the window, redelivers the missing ones and prints the result. */
  async recoverHook(target: Target, first?: Page): Promise<void> {
    const deliveries = await this.readLog(target, first);
    const groups = groupByGuid(deliveries);
    const stored = storedDeliveryIds(this.db, [...groups.keys()]);
    const missing = [...groups.values()].filter((group) => !stored.has(group.latest.guid));
    // Oldest event first, so that the worker sees them in their original order.
    missing.sort((a, b) => a.firstAt - b.firstAt || a.latest.id - b.latest.id);
    const result: HookResult = {
      scope: target.scope,
      name: target.name,
      hook_id: target.hookId,
      checked: groups.size,
      stored: stored.size,
      missing: missing.length,
      redelivered: 0,
      deliveries: [],
    };
    this.results.push(result);
    for (const group of missing) {
      const d = group.latest;
      const entry: MissingDelivery = {
        guid: d.guid,
        delivery_id: d.id,
        event: d.event,
        action: d.action,
        delivered_at: d.delivered_at,
        status_code: d.status_code,
        status: d.status,
        attempts: group.attempts,
        redelivered: false,
      };
      result.deliveries.push(entry);
      if (!this.options.dryRun) {
        await this.redeliver(target, d.id);
        entry.redelivered = true;
        result.redelivered++;
      }
      this.options.emit([missingLine(target, entry, this.options.dryRun)]);
    }
    this.options.emit([summaryLine(result, this.options.dryRun)]);
  }

  /** Pages through the log, newest first, until a delivery is older than the window. */
  private async readLog(target: Target, first?: Page): Promise<Delivery[]> {
    const deliveries: Delivery[] = [];
    let page = first ?? (await this.guardedFor(target, () => this.listPage(target, {})));
    const followed = new Set<string>();
    for (;;) {
      for (const delivery of page.data) {
        if (Date.parse(delivery.delivered_at) < this.options.sinceMs) return deliveries;
        deliveries.push(delivery);
      }
      const next = nextPageParams(page.link);
      if (!next) return deliveries;
      const key = JSON.stringify(next);
      if (followed.has(key)) return deliveries;
      followed.add(key);
      page = await this.guardedFor(target, () => this.listPage(target, next));
    }
  }

  private async listPage(target: Target, params: Record<string, string>): Promise<Page> {
    const response = await this.github.request(`GET ${base(target)}/hooks/{hook_id}/deliveries`, {
      ...pathParams(target),
      per_page: PER_PAGE,
      ...params,
    });
    return { data: response.data as Delivery[], link: response.headers.link };
  }

  private async listHooks(
    scope: Scope,
    name: string,
  ): Promise<{ id: number; active: boolean; config: { url?: string } }[]> {
    const target: Target = { scope, name, hookId: 0 };
    const { hook_id: _unused, ...params } = pathParams(target);
    return (await this.github.paginate(`GET ${base(target)}/hooks`, { ...params, per_page: 100 })) as {
      id: number;
      active: boolean;
      config: { url?: string };
    }[];
  }

  /** POST …/deliveries/{id}/attempts (202), at least `paceMs` after the previous one. */
  private async redeliver(target: Target, deliveryId: number): Promise<void> {
    const wait = this.lastWriteAt + this.options.paceMs - Date.now();
    if (this.lastWriteAt > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      await this.guardedFor(target, () =>
        this.github.request(`POST ${base(target)}/hooks/{hook_id}/deliveries/{delivery_id}/attempts`, {
          ...pathParams(target),
          delivery_id: deliveryId,
        }),
      );
    } finally {
      this.lastWriteAt = Date.now();
    }
  }

  private async guardedFor<T>(target: Target, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.failure(target, error);
    }
  }

  private async guarded<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new CliError(`recover ${what}: ${describeGitHubError(error, ACCESS_HINT)}`, EXIT.UNAVAILABLE);
    }
  }

  private failure(target: Target, error: unknown): CliError {
    if (error instanceof CliError) return error;
    return new CliError(
      `recover ${target.name} hook ${target.hookId}: ${describeGitHubError(error, ACCESS_HINT)}`,
      EXIT.UNAVAILABLE,
    );
  }
}

interface Group {
  latest: Delivery;
  firstAt: number;
  attempts: number;
}

/** GitHub lists each attempt of an event as its own delivery, all with the event's guid. */
function groupByGuid(deliveries: Delivery[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const delivery of deliveries) {
    const at = Date.parse(delivery.delivered_at);
    const group = groups.get(delivery.guid);
    if (!group) {
      groups.set(delivery.guid, { latest: delivery, firstAt: at, attempts: 1 });
      continue;
    }
    group.attempts++;
    group.firstAt = Math.min(group.firstAt, at);
    const latestAt = Date.parse(group.latest.delivered_at);
    if (at > latestAt || (at === latestAt && delivery.id > group.latest.id)) group.latest = delivery;
  }
  return groups;
}

/** The query of the `rel="next"` link (GitHub pages deliveries with a `cursor`), or undefined at the end. */
function nextPageParams(link: string | undefined): Record<string, string> | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return Object.fromEntries(new URL(match[1]!).searchParams);
  }
  return undefined;
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

function base(target: Target): string {
  return target.scope === 'repository' ? '/repos/{owner}/{repo}' : '/orgs/{org}';
}

function pathParams(target: Target): Record<string, string | number> {
  if (target.scope === 'organization') return { org: target.name, hook_id: target.hookId };
  const [owner, repo] = target.name.split('/') as [string, string];
  return { owner, repo, hook_id: target.hookId };
}

function missingLine(target: Target, entry: MissingDelivery, dryRun: boolean): string {
  const event = entry.action ? `${entry.event}.${entry.action}` : entry.event;
  const verb = dryRun ? 'would redeliver' : 'redeliver';
  return `${verb} ${entry.guid} ${event} ${target.name} (delivered ${entry.delivered_at}, status ${entry.status_code})`;
}

export function summaryLine(result: HookResult, dryRun: boolean): string {
  const head = `${result.name} hook ${result.hook_id}: ${result.checked} deliveries checked, ${result.stored} stored, ${result.missing} missing`;
  return dryRun ? `${head}, would redeliver ${result.missing} (dry run)` : `${head}, ${result.redelivered} redelivered`;
}
