import type { LoadedConfig } from '../config/load.js';
import type { GitHub } from '../clients/github.js';
import type { Store } from '../store/store.js';
import type { RepoLabel } from '../store/types.js';
import type { Triage } from './analysis.js';
import type { RepositoryConfig, Subject } from './filter.js';
import { firmDuplicate } from './related.js';
import { hasThreadMarker, neutralizeMarkdown, sanitizeModelText, singleLineField, threadMarker } from './sanitize.js';

export interface ActionRecord {
  /** Why nothing was written, when nothing was: "dry run" or "no GitHub token". */
  planned_only: string | null;
  /** `pending`: an attempt stopped before this step (a rate-limit deferral, a crash); the next one does it. */
  comment: {
    action: 'created' | 'updated' | 'unchanged' | 'planned' | 'disabled' | 'pending';
    id?: number;
    url?: string | null;
  };
  labels: { action: 'added' | 'unchanged' | 'planned' | 'disabled'; added: string[]; ignored: string[] };
}

interface ActArgs {
  store: Store;
  /** The ledger row the record belongs to: an earlier attempt may have recorded part of it. */
  analysisId: number;
  github: GitHub | undefined;
  config: LoadedConfig;
  repo: RepositoryConfig;
  threadKey: string;
  subject: Subject;
  triage: Triage;
  dryRun: boolean;
  botLogin: string | undefined;
  /** Aborts a write still waiting for its pacing slot when the worker loses the event's lease. */
  signal: AbortSignal;
}

/**
 * Posts or updates the thread's one comment and applies the labels the policy allows. The record says
 * what hls did across the attempts of one analysis: labels added before an attempt stopped are kept
 * on record (saved as soon as they are added), and so is a comment an earlier attempt created.
 */
export async function applyActions(args: ActArgs): Promise<ActionRecord> {
  const plannedOnly = args.dryRun ? 'dry run' : args.github ? null : 'no GitHub token';
  const earlier = await earlierRecord(args.store, args.analysisId);
  const labels = withEarlierLabels(earlier?.labels, await planLabels(args, plannedOnly));
  if (labels.action === 'added') {
    const comment = earlier?.comment ?? { action: 'pending' as const };
    await args.store.ledger.recordActions(
      args.analysisId,
      JSON.stringify({ planned_only: plannedOnly, comment, labels }),
    );
  }
  const comment = args.repo.comments.auto_post
    ? plannedOnly
      ? { action: 'planned' as const }
      : await upsertComment(args, args.github!)
    : { action: 'disabled' as const };
  return { planned_only: plannedOnly, comment: withEarlierComment(earlier?.comment, comment), labels };
}

async function earlierRecord(store: Store, analysisId: number): Promise<ActionRecord | undefined> {
  const json = await store.ledger.recordedActions(analysisId);
  return json ? (JSON.parse(json) as ActionRecord) : undefined;
}

/** Labels an earlier attempt added are on the issue now, so this attempt finds them present. */
function withEarlierLabels(
  earlier: ActionRecord['labels'] | undefined,
  now: ActionRecord['labels'],
): ActionRecord['labels'] {
  if (earlier?.action !== 'added' || (now.action !== 'added' && now.action !== 'unchanged')) return now;
  return { ...now, action: 'added', added: [...new Set([...earlier.added, ...now.added])] };
}

/** A comment an earlier attempt created or updated is found unchanged by this one. */
function withEarlierComment(
  earlier: ActionRecord['comment'] | undefined,
  now: ActionRecord['comment'],
): ActionRecord['comment'] {
  const wrote = earlier?.action === 'created' || earlier?.action === 'updated';
  return wrote && now.action === 'unchanged' ? { ...now, action: earlier.action } : now;
}

/** Releases and other events without an issue or pull request: nothing to comment on or label. */
export function noThreadActions(): ActionRecord {
  return {
    planned_only: 'no issue or pull request thread to act on',
    comment: { action: 'disabled' },
    labels: { action: 'disabled', added: [], ignored: [] },
  };
}

/**
 * The comment: the model's text, then a footer line with the model's other fields and the hidden
 * marker. Every model-written field goes through the sanitizer; the component is kept to one line.
 */
export function commentBody(triage: Triage, threadKey: string): string {
  const component = singleLineField(triage.component).replace(/`/g, "'");
  const footer = neutralizeMarkdown(
    `<sub>hls triage · priority **${triage.priority}** · difficulty **${triage.difficulty}** · ` +
      `component \`${component}\` · confidence ${triage.confidence.toFixed(2)}</sub>`,
  );
  const related = relatedLine(triage);
  const tail = `\n\n${related ? `${related}\n\n` : ''}${footer}\n${threadMarker(threadKey)}`;
  return sanitizeModelText(triage.comment.trim(), tail.length) + tail;
}

/** The related threads as links (`#12` links to this repository's issue or pull request), or ''. */
function relatedLine(triage: Triage): string {
  const link = (number: number) => `#${number}`;
  const others = triage.related.filter((number) => number !== triage.duplicate_of && Number.isSafeInteger(number));
  const parts = [
    ...(triage.duplicate_of !== null && Number.isSafeInteger(triage.duplicate_of)
      ? [`Possible duplicate of ${link(triage.duplicate_of)}`]
      : []),
    ...(others.length > 0 ? [`Related: ${others.map(link).join(', ')}`] : []),
  ];
  return parts.join(' · ');
}

async function upsertComment(args: ActArgs, github: GitHub): Promise<ActionRecord['comment']> {
  const [owner, repo] = args.repo.name.split('/') as [string, string];
  const body = commentBody(args.triage, args.threadKey);
  const existing = await findStickyComment(args, github, owner, repo);
  if (existing) {
    if (existing.body === body) return { action: 'unchanged', id: existing.id, url: existing.html_url };
    const { data } = await github.issues.updateComment({
      owner,
      repo,
      comment_id: existing.id,
      body,
      request: { signal: args.signal },
    });
    await args.store.cache.storeStickyComment(args.threadKey, { comment_id: data.id, html_url: data.html_url });
    return { action: 'updated', id: data.id, url: data.html_url };
  }
  // Not re-sent after a server error: the comment may exist all the same. The event's next attempt
  // finds it by its marker and updates it instead of posting a second one.
  const { data } = await github.issues.createComment({
    owner,
    repo,
    issue_number: args.subject.number,
    body,
    request: { retries: 0, signal: args.signal },
  });
  await args.store.cache.storeStickyComment(args.threadKey, { comment_id: data.id, html_url: data.html_url });
  return { action: 'created', id: data.id, url: data.html_url };
}

/** By the stored id first; else by the hidden marker among the thread's comments (by our login). */
async function findStickyComment(
  args: ActArgs,
  github: GitHub,
  owner: string,
  repo: string,
): Promise<{ id: number; body: string; html_url: string } | undefined> {
  const stored = await args.store.cache.stickyComment(args.threadKey);
  if (stored) {
    try {
      const { data } = await github.issues.getComment({ owner, repo, comment_id: stored.comment_id });
      return { id: data.id, body: data.body ?? '', html_url: data.html_url };
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
    }
  }
  const comments = await github.paginate(github.issues.listComments, {
    owner,
    repo,
    issue_number: args.subject.number,
    per_page: 100,
  });
  const ours = comments.find(
    (comment) =>
      hasThreadMarker(comment.body ?? '', args.threadKey) &&
      (!args.botLogin || comment.user?.login.toLowerCase() === args.botLogin.toLowerCase()),
  );
  return ours ? { id: ours.id, body: ours.body ?? '', html_url: ours.html_url } : undefined;
}

/**
 * Labels = (the model's labels that are in the allowlist) + the labels mapped from priority and
 * difficulty, kept only if they exist in the repository, minus those already on the issue. Labels are
 * only ever added; one a person applied is never removed, and none is created implicitly.
 */
async function planLabels(args: ActArgs, plannedOnly: string | null): Promise<ActionRecord['labels']> {
  const policy = args.repo.labels;
  if (!args.config.features.auto_labeling || !policy.auto_apply) return { action: 'disabled', added: [], ignored: [] };
  const allowed = new Set(policy.allowed.map((name) => name.toLowerCase()));
  const duplicate = duplicateLabel(args);
  const mapped = [
    policy.priority[args.triage.priority],
    policy.difficulty[args.triage.difficulty],
    duplicate.apply ? policy.duplicate : undefined,
  ].filter((name): name is string => Boolean(name));
  const isDuplicateLabel = (name: string) => name.toLowerCase() === policy.duplicate?.toLowerCase();
  // The duplicate label comes from duplicate_of and its confidence only, never from the model's own list.
  const suggested = args.triage.labels.filter((name) => allowed.has(name.toLowerCase()) && !isDuplicateLabel(name));
  const ignored = [
    ...args.triage.labels.filter((name) => !allowed.has(name.toLowerCase())),
    ...args.triage.labels.filter(
      (name) => allowed.has(name.toLowerCase()) && isDuplicateLabel(name) && !duplicate.apply,
    ),
    ...(duplicate.ignored ? [duplicate.ignored] : []),
  ];
  const repoLabels = args.github
    ? await repositoryLabels(args.store, args.github, args.config, args.repo.name)
    : undefined;
  const byName = new Map((repoLabels ?? []).map((label) => [label.name.toLowerCase(), label.name]));
  const wanted = [...new Set([...suggested, ...mapped].map((name) => name.toLowerCase()))];
  // The payload's labels may be stale (an earlier event of the thread added some): ask GitHub.
  const current = args.github
    ? await issueLabels(args.github, args.repo.name, args.subject.number)
    : args.subject.labels;
  const present = new Set(current.map((name) => name.toLowerCase()));
  const toAdd: string[] = [];
  for (const name of wanted) {
    const existing = repoLabels ? byName.get(name) : name;
    if (!existing) ignored.push(`${name} (not in the repository)`);
    else if (!present.has(name)) toAdd.push(existing);
  }
  if (toAdd.length === 0) return { action: 'unchanged', added: [], ignored };
  if (plannedOnly) return { action: 'planned', added: toAdd, ignored };
  const [owner, repo] = args.repo.name.split('/') as [string, string];
  await args.github!.issues.addLabels({
    owner,
    repo,
    issue_number: args.subject.number,
    labels: toAdd,
    request: { signal: args.signal },
  });
  return { action: 'added', added: toAdd, ignored };
}

/**
 * labels.duplicate goes on when the analysis names a duplicate with at least similar.duplicate_confidence
 * and the label is in the allowlist; `ignored` says why a duplicate did not get it.
 */
function duplicateLabel(args: ActArgs): { apply: boolean; ignored?: string } {
  const name = args.repo.labels.duplicate;
  if (!name || args.triage.duplicate_of === null) return { apply: false };
  const threshold = args.config.similar.duplicate_confidence;
  if (!firmDuplicate(args.triage, args.config)) {
    return {
      apply: false,
      ignored: `${name} (duplicate_of #${args.triage.duplicate_of} below confidence ${threshold})`,
    };
  }
  if (!args.repo.labels.allowed.some((allowed) => allowed.toLowerCase() === name.toLowerCase())) {
    return { apply: false, ignored: `${name} (labels.duplicate is not in labels.allowed)` };
  }
  return { apply: true };
}

export async function issueLabels(github: GitHub, repository: string, number: number): Promise<string[]> {
  const [owner, repo] = repository.split('/') as [string, string];
  const labels = await github.paginate(github.issues.listLabelsOnIssue, {
    owner,
    repo,
    issue_number: number,
    per_page: 100,
  });
  return labels.map((label) => label.name);
}

/** The repository's labels, from the database's cache while it is younger than github.label_cache_seconds. */
export async function repositoryLabels(
  store: Store,
  github: GitHub,
  config: LoadedConfig,
  repository: string,
): Promise<RepoLabel[]> {
  const cached = await store.cache.cachedLabels(repository, config.github.label_cache_seconds * 1000);
  if (cached) return cached;
  const [owner, repo] = repository.split('/') as [string, string];
  const labels = (await github.paginate(github.issues.listLabelsForRepo, { owner, repo, per_page: 100 })).map(
    (label) => ({
      name: label.name,
      color: label.color,
      description: label.description ?? null,
    }),
  );
  await store.cache.storeLabels(repository, labels);
  return labels;
}
