import { AppAccess, githubAccess, githubCredentials, type GitHubAccess } from '../clients/github-access.js';
import type { GitHub } from '../clients/github.js';
import { CliError, EXIT } from '../exit-codes.js';
import { guarded } from '../recover/api.js';
import { scopesToRead, validateFlags, type RecoverFlags } from '../recover/flags.js';
import { resolveHooks } from '../recover/hooks.js';
import { jsonReport } from '../recover/output.js';
import { recoverHook } from '../recover/recover-hook.js';
import { pacedRedeliver } from '../recover/redeliver.js';
import type { Page, Recovery, Scope, Target } from '../recover/types.js';
import { commandContext, withStore } from './command-context.js';
import { printJson, printLines } from './format.js';

export type { RecoverFlags } from '../recover/flags.js';
export { summaryLine } from '../recover/output.js';
export type { HookResult, MissingDelivery } from '../recover/types.js';

/**
 * `hls recover`: reads the delivery logs of the webhooks that feed hls and asks GitHub to redeliver
 * each delivery whose id is not in the database (events sent while the relay or the disk was down).
 */
export async function runRecover(flags: RecoverFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  validateFlags(flags);
  const { config, database, log } = commandContext(flags, env);
  const scopes = scopesToRead(flags, config);
  const credentials = githubCredentials(config, env);
  if (!credentials) throw new CliError('recover needs a GitHub token (github.token or GITHUB_TOKEN)', EXIT.CONFIG);
  // Must exist: a missing file is a wrong --db, and creating it here could leave it unreadable to the relay.
  return withStore(database, async (store) => {
    // Redeliveries are content-creating requests: paced together with the workers' writes. A dry run only
    // reads, and leaves the database untouched (no rate-limit readings either).
    const access = githubAccess(config, credentials, log, env, flags.dryRun ? undefined : store);
    const paceMs = flags.paceMs ?? 1000;
    const recovery: Recovery = {
      github: await clientFor(access, scopes[0]!.scope, scopes[0]!.name),
      store,
      log,
      options: {
        sinceMs: store.clock() - (flags.since ?? 86_400_000),
        dryRun: Boolean(flags.dryRun),
        paceMs,
        emit: (lines) => {
          if (!flags.json && lines.length > 0) printLines(lines);
        },
      },
      results: [],
      unresolved: [],
      redeliver: pacedRedeliver(paceMs),
    };
    const seen = new Set<string>();
    for (const { scope, name } of scopes) {
      recovery.github = await clientFor(access, scope, name);
      const found: { target: Target; first?: Page }[] =
        scope === 'app'
          ? [{ target: { scope, name, hookId: credentials.kind === 'app' ? credentials.appId : 0 } }]
          : await resolveHooks(recovery, scope, name, flags.hookId);
      for (const { target, first } of found) {
        const key = `${target.scope}:${target.name.toLowerCase()}:${target.hookId}`;
        if (seen.has(key)) continue;
        seen.add(key);
        await recoverHook(recovery, target, first);
      }
    }
    if (flags.json) printJson(jsonReport(recovery));
    return EXIT.OK;
  });
}

/** The App's own client (JWT) for its webhook; a repository's installation; a token for everything. */
async function clientFor(access: GitHubAccess, scope: Scope, name: string): Promise<GitHub> {
  if (access instanceof AppAccess) {
    if (scope === 'app') return access.app;
    if (scope === 'repository') return guarded(`${name} installation`, () => access.forRepository(name));
    throw new CliError(
      `--org ${name}: as a GitHub App, recover reads the App's webhook (--app) or a repository's (--repo)`,
      EXIT.USAGE,
    );
  }
  return access.forRepository(name);
}
