import type { GitHub } from '../../clients/github.js';
import type { HandlerContext, HandlerResult } from '../../worker/handlers.js';
import { issueLabels, repositoryLabels } from '../act.js';
import type { RepositoryConfig, Subject } from '../filter.js';
import { helpBody, helpMarker } from './help.js';
import type { CommandName, ParsedCommand } from './parse.js';
import { senderPermission } from './permission.js';

type Reaction = 'eyes' | '+1' | 'confused';

interface CommandArgs extends HandlerContext {
  repo: RepositoryConfig;
  github: GitHub | undefined;
  subject: Subject;
  command: ParsedCommand;
  botLogin: string | undefined;
  /** The thread's analysis, as any event's, whatever analysed it before. */
  analyse(): Promise<HandlerResult>;
}

/**
 * A comment command: the sender's permission is asked of GitHub first, so that a command from
 * someone without write access leaves nothing on GitHub. A command taken gets `eyes`, then `+1` once
 * done; an unknown one gets `confused`. Every write goes through the rate-limit gate like any other.
 */
export async function runCommand(args: CommandArgs): Promise<HandlerResult> {
  const { event, command, github, log } = args;
  const sender = event.sender_login ?? '';
  if (!github) return { skipped: 'comment command not taken: no GitHub token to check the sender’s permission' };
  const permission = await senderPermission(github, args.repo.name, sender, args.store.clock());
  if (!permission.allowed) {
    return {
      skipped: `comment command from ${sender}, whose role is ${permission.role}: write, maintain or admin needed`,
    };
  }
  const commentId = (args.payload.comment as { id?: unknown } | undefined)?.id;
  const react = async (content: Reaction) => {
    if (args.dryRun || typeof commentId !== 'number') return;
    const [owner, repo] = args.repo.name.split('/') as [string, string];
    await github.reactions.createForIssueComment({
      owner,
      repo,
      comment_id: commentId,
      content,
      request: { signal: args.signal },
    });
  };
  if (command.kind === 'unknown') {
    await react('confused');
    return { skipped: `unknown comment command ${JSON.stringify(command.word)} from ${sender}` };
  }
  await react('eyes');
  const result = await perform(command.name, args, github, sender);
  if (result) return result;
  await react('+1');
  log.info('comment command done', { event_id: event.id, command: command.name, sender, thread: event.thread_key });
}

async function perform(name: CommandName, args: CommandArgs, github: GitHub, sender: string): Promise<HandlerResult> {
  const threadKey = args.event.thread_key!;
  switch (name) {
    case 'triage':
      return args.analyse();
    case 'ignore':
      await args.store.threads.setThreadIgnored(threadKey, true, sender);
      return setOptOutLabel(args, github, true);
    case 'resume':
      await args.store.threads.setThreadIgnored(threadKey, false, sender);
      return setOptOutLabel(args, github, false);
    case 'help':
      return postHelp(args, github);
  }
}

/**
 * `ignore` adds the opt-out label when the repository has it (none is created); `resume` removes it
 * from the thread, since the label alone keeps every event of the thread skipped.
 */
async function setOptOutLabel(args: CommandArgs, github: GitHub, present: boolean): Promise<void> {
  if (args.dryRun) return;
  const wanted = args.config.filters.opt_out_label;
  const [owner, repo] = args.repo.name.split('/') as [string, string];
  const issue_number = args.subject.number;
  const request = { signal: args.signal };
  const onIssue = (await issueLabels(github, args.repo.name, issue_number)).find(
    (name) => name.toLowerCase() === wanted.toLowerCase(),
  );
  if (!present) {
    if (onIssue) await github.issues.removeLabel({ owner, repo, issue_number, name: onIssue, request });
    return;
  }
  if (onIssue) return;
  const known = (await repositoryLabels(args.store, github, args.config, args.repo.name)).find(
    (label) => label.name.toLowerCase() === wanted.toLowerCase(),
  );
  if (known) await github.issues.addLabels({ owner, repo, issue_number, labels: [known.name], request });
}

/** One help comment per thread at most: found again by its marker, written only when missing or different. */
async function postHelp(args: CommandArgs, github: GitHub): Promise<void> {
  if (args.dryRun) return;
  const threadKey = args.event.thread_key!;
  const login = args.botLogin;
  const body = helpBody(args.config, login, threadKey);
  const [owner, repo] = args.repo.name.split('/') as [string, string];
  const issue_number = args.subject.number;
  const comments = await github.paginate(github.issues.listComments, { owner, repo, issue_number, per_page: 100 });
  const existing = comments.find(
    (comment) =>
      (comment.body ?? '').trimEnd().endsWith(helpMarker(threadKey)) &&
      (!login || comment.user?.login.toLowerCase() === login.toLowerCase()),
  );
  if (existing?.body === body) return;
  const signal = args.signal;
  if (existing) await github.issues.updateComment({ owner, repo, comment_id: existing.id, body, request: { signal } });
  // Not re-sent after a server error (the comment may exist all the same): a retry of the event finds it.
  else await github.issues.createComment({ owner, repo, issue_number, body, request: { retries: 0, signal } });
}
