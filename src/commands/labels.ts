import { githubAccess, githubCredentials } from '../clients/github-access.js';
import { describeGitHubError, type GitHub } from '../clients/github.js';
import type { LoadedConfig } from '../config/load.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { Store } from '../store/store.js';
import type { RepoLabel } from '../store/types.js';
import { commandContext, openForCommand, type GlobalOptions } from './command-context.js';
import { printJson, printLines } from './format.js';

export interface LabelsSyncFlags extends GlobalOptions {
  repo?: string;
  dryRun?: boolean;
  json?: boolean;
}

type RepositoryConfig = LoadedConfig['repositories'][number];
type LabelDefinition = RepositoryConfig['labels']['definitions'][number];

interface Change {
  from: string | null;
  to: string | null;
}

export interface LabelUpdate {
  /** The label's current name on GitHub. */
  name: string;
  changes: { name?: Change; color?: Change; description?: Change };
}

export interface LabelPlan {
  create: RepoLabel[];
  update: LabelUpdate[];
  unchanged: string[];
}

export interface RepositoryResult {
  repository: string;
  created: RepoLabel[];
  updated: LabelUpdate[];
  unchanged: string[];
}

/**
 * `hls labels sync`: makes each configured repository's labels match `labels.definitions` by creating
 * the missing ones and updating those whose colour, description or name case differ. Never deletes.
 */
export async function runLabelsSync(flags: LabelsSyncFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { config, database, log } = commandContext(flags, env);
  const repositories = selectRepositories(config, flags.repo);
  const credentials = githubCredentials(config, env);
  if (!credentials) throw new CliError('labels sync needs a GitHub token (github.token or GITHUB_TOKEN)', EXIT.CONFIG);
  const dryRun = Boolean(flags.dryRun);
  const emit = (lines: string[]): void => {
    if (!flags.json && lines.length > 0) printLines(lines);
  };
  // Opened before any write, so that a database problem stops the command before GitHub changes. The
  // label cache and the rate-limit gate use the queue database when there is one; this never creates it.
  const store = dryRun ? undefined : await openIfQueued(database);
  const access = githubAccess(config, credentials, log, env, store);
  try {
    const results: RepositoryResult[] = [];
    for (const repository of repositories) {
      const github = await guarded(repository.name, () => access.forRepository(repository.name));
      results.push(await syncRepository(github, store, repository, dryRun, emit));
    }
    if (flags.json) printJson({ repositories: results, dry_run: dryRun });
    return EXIT.OK;
  } finally {
    await store?.close();
  }
}

/** The configured repositories to sync: all of them, or the one named by --repo (64 if unknown). */
export function selectRepositories(config: LoadedConfig, only: string | undefined): RepositoryConfig[] {
  const chosen = only
    ? config.repositories.filter((repo) => repo.name.toLowerCase() === only.toLowerCase())
    : config.repositories;
  if (only && chosen.length === 0) {
    throw new CliError(`--repo ${only} is not a configured repository (repositories[].name)`, EXIT.USAGE);
  }
  for (const repo of chosen) checkDefinitions(config, repo);
  return chosen;
}

function checkDefinitions(config: LoadedConfig, repo: RepositoryConfig): void {
  const seen = new Set<string>();
  for (const definition of repo.labels.definitions) {
    const key = definition.name.toLowerCase();
    if (seen.has(key)) {
      const index = config.repositories.indexOf(repo);
      throw new CliError(
        `repositories[${index}].labels.definitions: label "${definition.name}" is defined twice (names match case-insensitively)`,
        EXIT.CONFIG,
      );
    }
    seen.add(key);
  }
}

async function syncRepository(
  github: GitHub,
  store: Store | undefined,
  repo: RepositoryConfig,
  dryRun: boolean,
  emit: (lines: string[]) => void,
): Promise<RepositoryResult> {
  const result: RepositoryResult = { repository: repo.name, created: [], updated: [], unchanged: [] };
  const definitions = repo.labels.definitions;
  // Nothing to compare against: no request, and no reason to fail on a repository the token cannot see.
  if (definitions.length > 0) {
    const current = await guarded(repo.name, () => listLabels(github, repo.name));
    const plan = planLabelSync(definitions, current);
    result.unchanged = plan.unchanged;
    try {
      if (dryRun) {
        result.created = plan.create;
        result.updated = plan.update;
      } else {
        await guarded(repo.name, () => applyPlan(github, repo.name, plan, result));
      }
    } catch (error) {
      // What was written before the failure is still reported, before the error line.
      emit(labelLines(result, dryRun));
      throw error;
    } finally {
      // Even after a failed write, the cache gets what is known to be on GitHub now.
      await store?.cache.storeLabels(repo.name, labelsAfter(current, result));
    }
  }
  emit([...labelLines(result, dryRun), summaryLine(result, dryRun)]);
  return result;
}

/** Every label of the repository, following pagination. */
async function listLabels(github: GitHub, repository: string): Promise<RepoLabel[]> {
  const [owner, repo] = splitName(repository);
  const labels = await github.paginate(github.issues.listLabelsForRepo, { owner, repo, per_page: 100 });
  return labels.map((label) => ({ name: label.name, color: label.color, description: label.description ?? null }));
}

/**
 * Compares definitions with the repository's labels by case-insensitive name. A definition without a
 * description leaves the label's description alone; colours compare case-insensitively.
 */
export function planLabelSync(definitions: LabelDefinition[], current: RepoLabel[]): LabelPlan {
  const byName = new Map(current.map((label) => [label.name.toLowerCase(), label]));
  const plan: LabelPlan = { create: [], update: [], unchanged: [] };
  for (const definition of definitions) {
    const color = definition.color.toLowerCase();
    const existing = byName.get(definition.name.toLowerCase());
    if (!existing) {
      plan.create.push({ name: definition.name, color, description: definition.description ?? null });
      continue;
    }
    const changes: LabelUpdate['changes'] = {};
    if (existing.name !== definition.name) changes.name = { from: existing.name, to: definition.name };
    if (existing.color.toLowerCase() !== color) changes.color = { from: existing.color, to: color };
    if (definition.description !== undefined && (existing.description ?? '') !== definition.description) {
      changes.description = { from: existing.description, to: definition.description };
    }
    if (Object.keys(changes).length > 0) plan.update.push({ name: existing.name, changes });
    else plan.unchanged.push(existing.name);
  }
  return plan;
}

/** Writes the plan, recording each step in `result` as soon as GitHub has accepted it. */
async function applyPlan(github: GitHub, repository: string, plan: LabelPlan, result: RepositoryResult): Promise<void> {
  const [owner, repo] = splitName(repository);
  for (const label of plan.create) {
    const { data } = await github.issues.createLabel({
      owner,
      repo,
      name: label.name,
      color: label.color,
      ...(label.description === null ? {} : { description: label.description }),
    });
    result.created.push({ name: data.name, color: data.color, description: data.description ?? null });
  }
  for (const update of plan.update) {
    const { name, color, description } = update.changes;
    await github.issues.updateLabel({
      owner,
      repo,
      name: update.name,
      ...(name ? { new_name: name.to! } : {}),
      ...(color ? { color: color.to! } : {}),
      ...(description ? { description: description.to! } : {}),
    });
    result.updated.push(update);
  }
}

/** The repository's labels once the recorded creations and updates are applied. */
function labelsAfter(current: RepoLabel[], result: RepositoryResult): RepoLabel[] {
  const updates = new Map(result.updated.map((update) => [update.name, update.changes]));
  const labels = current.map((label) => {
    const changes = updates.get(label.name);
    if (!changes) return label;
    return {
      name: changes.name?.to ?? label.name,
      color: changes.color?.to ?? label.color,
      description: changes.description ? changes.description.to : label.description,
    };
  });
  return [...labels, ...result.created];
}

/** One line per created, updated and unchanged label. */
export function labelLines(result: RepositoryResult, dryRun: boolean): string[] {
  const repo = result.repository;
  const verb = (word: string) => (dryRun ? `would ${word}` : word);
  return [
    ...result.created.map(
      (label) =>
        `${verb('create')} ${repo} ${quote(label.name)} #${label.color}${label.description ? ` ${label.description}` : ''}`,
    ),
    ...result.updated.map((update) => `${verb('update')} ${repo} ${quote(update.name)} ${describeChanges(update)}`),
    ...result.unchanged.map((name) => `ok ${repo} ${quote(name)}`),
  ];
}

export function summaryLine(result: RepositoryResult, dryRun: boolean): string {
  const { repository, created, updated, unchanged } = result;
  return dryRun
    ? `${repository}: would create ${created.length}, would update ${updated.length}, ${unchanged.length} unchanged (dry run)`
    : `${repository}: ${created.length} created, ${updated.length} updated, ${unchanged.length} unchanged`;
}

function describeChanges(update: LabelUpdate): string {
  const { name, color, description } = update.changes;
  return [
    name ? `name ${quote(name.from)} → ${quote(name.to)}` : undefined,
    color ? `color #${color.from} → #${color.to}` : undefined,
    description ? `description ${quote(description.from ?? '')} → ${quote(description.to ?? '')}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
}

const quote = (text: string | null): string => JSON.stringify(text ?? '');

function splitName(repository: string): [string, string] {
  return repository.split('/') as [string, string];
}

/** Runs a GitHub call, turning its failure into a one-line error with exit 69 (the token is never shown). */
async function guarded<T>(repository: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new CliError(
      `labels sync ${repository}: ${describeGitHubError(error, 'check the token and its access')}`,
      EXIT.UNAVAILABLE,
    );
  }
}

/** The queue's store when something was queued already (a missing database is not created here). */
async function openIfQueued(database: string): Promise<Store | undefined> {
  try {
    return await openForCommand(database);
  } catch (error) {
    if (error instanceof CliError && error.exitCode === EXIT.NO_INPUT) return undefined;
    throw error;
  }
}
