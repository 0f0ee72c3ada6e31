import { githubAccess, githubCredentials } from '../clients/github-access.js';
import { describeGitHubError } from '../clients/github.js';
import type { LoadedConfig } from '../config/load.js';
import { CliError, EXIT } from '../exit-codes.js';
import { visible } from '../intake/visible.js';
import { RateLimitWait } from '../limits/wait.js';
import { backfill, type BackfillResult } from '../similar/backfill.js';
import { payloadThread, searchText } from '../similar/thread.js';
import type { Store } from '../store/store.js';
import type { SimilarMatch, SimilarQuery } from '../store/types.js';
import { commandContext, withStore, type GlobalOptions } from './command-context.js';
import { printJson, printLines, table } from './format.js';

export interface SimilarFlags extends GlobalOptions {
  repo?: string;
  text?: string;
  limit?: number;
  restart?: boolean;
  json?: boolean;
}

/** `hls similar index …` or a search. */
export async function runSimilar(ref: string | undefined, flags: SimilarFlags): Promise<number> {
  if (ref !== 'index') {
    if (flags.restart) throw new CliError('--restart goes with similar index', EXIT.USAGE);
    return runSimilarSearch(ref, flags);
  }
  if (flags.text !== undefined || flags.limit !== undefined) {
    throw new CliError('similar index takes --repo, --restart and --json only', EXIT.USAGE);
  }
  if (flags.repo === undefined) throw new CliError('similar index needs --repo owner/repo', EXIT.USAGE);
  return runSimilarIndex({ ...flags, repo: flags.repo });
}

/**
 * `hls similar index --repo R`: indexes the repository's existing issues and pull requests (see
 * similar/backfill.ts). Progress goes to stderr, the summary to stdout. A rate limit that asks for a
 * longer wait than the gate holds a request for ends the run with 75: running it again continues.
 */
async function runSimilarIndex(
  flags: SimilarFlags & { repo: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { config, database, log } = commandContext(flags, env);
  const repository = configuredRepository(config, flags.repo);
  const credentials = githubCredentials(config, env);
  if (!credentials) {
    throw new CliError('similar index needs a GitHub token (github.token or GITHUB_TOKEN) or github.app', EXIT.CONFIG);
  }
  return withStore(database, async (store) => {
    const access = githubAccess(config, credentials, log, env, store);
    let result: BackfillResult;
    try {
      const github = await access.forRepository(repository);
      result = await backfill(github, store, repository, {
        restart: Boolean(flags.restart),
        onPage: (p) =>
          process.stderr.write(
            `${p.repository}: page ${p.page}, ${p.threads} issues and pull requests (${p.indexed} so far)\n`,
          ),
      });
    } catch (error) {
      throw await interrupted(store, repository, error);
    }
    if (flags.json) printJson(result);
    else printLines([`indexed ${result.indexed} of ${repository}, pages ${result.pages}, done`]);
    return EXIT.OK;
  });
}

/** The error a backfill cut short by GitHub ends with: what is indexed stays, the next run continues. */
async function interrupted(store: Store, repository: string, error: unknown): Promise<unknown> {
  if (!(error instanceof RateLimitWait) && !(error instanceof Error && 'status' in error)) return error;
  const state = await store.similar.backfillState(repository);
  const progress = `${state?.indexed ?? 0} indexed so far; run it again to continue from page ${state?.next_page ?? 1}`;
  const reason = describeGitHubError(error, 'check the token and its access to the repository');
  return new CliError(
    `similar index ${repository}: ${reason}; ${progress}`,
    error instanceof RateLimitWait ? EXIT.TEMP_FAIL : EXIT.UNAVAILABLE,
  );
}

/**
 * `hls similar ID|DELIVERY` (the event's issue or pull request, itself left out) or
 * `hls similar --repo R --text "…"`: the best matches of the repository's index, with their scores.
 */
async function runSimilarSearch(ref: string | undefined, flags: SimilarFlags): Promise<number> {
  if ((ref === undefined) === (flags.text === undefined)) {
    throw new CliError('similar takes an event (ID or DELIVERY) or --repo with --text, not both', EXIT.USAGE);
  }
  if (flags.text !== undefined && flags.repo === undefined) {
    throw new CliError('similar --text needs --repo owner/repo', EXIT.USAGE);
  }
  const { config, database } = commandContext(flags);
  const limit = flags.limit ?? config.similar.max;
  return withStore(database, async (store) => {
    const query: SimilarQueryText =
      ref === undefined ? { repository: flags.repo!, text: flags.text! } : await eventQuery(store, ref);
    const matches = await store.similar.search({ ...query, limit });
    if (flags.json) printJson({ repository: query.repository, exclude: query.exclude ?? null, matches });
    else printLines(matchLines(query.repository, matches));
    return EXIT.OK;
  });
}

/** A search without its limit. */
type SimilarQueryText = Omit<SimilarQuery, 'limit'>;

async function eventQuery(store: Store, ref: string): Promise<SimilarQueryText> {
  const event = await store.queue.find(ref);
  if (!event) throw new CliError(`no event with id or delivery "${ref}"`, EXIT.NO_INPUT);
  if (!event.payload) throw new CliError(`event ${event.id}: payload was pruned`, EXIT.NO_INPUT);
  let payload: unknown;
  try {
    payload = JSON.parse(event.payload.toString('utf8'));
  } catch {
    throw new CliError(`event ${event.id}: the stored payload is not JSON`, EXIT.DATA);
  }
  const thread = event.repository ? payloadThread(event.repository, payload) : undefined;
  if (!thread) {
    throw new CliError(`event ${event.id} (${event.event_type}) is not about an issue or pull request`, EXIT.DATA);
  }
  return { repository: thread.repository, text: searchText(thread), exclude: thread.number };
}

function matchLines(repository: string, matches: SimilarMatch[]): string[] {
  if (matches.length === 0) return [`no similar issues or pull requests indexed in ${repository}`];
  return table(
    ['#', 'score', 'state', 'title'],
    matches.map((m) => [
      `#${m.number}`,
      m.score.toFixed(2),
      m.kind === 'pull_request' ? `${m.state} pr` : m.state,
      visible(m.title, 100),
    ]),
  );
}

/** The configured repository `name` (case-insensitive), as configured; 64 with the list otherwise. */
function configuredRepository(config: LoadedConfig, name: string): string {
  const found = config.repositories.find((repo) => repo.name.toLowerCase() === name.toLowerCase());
  if (!found) {
    const names = config.repositories.map((repo) => repo.name).join(', ') || 'none';
    throw new CliError(`--repo ${name} is not a configured repository (configured: ${names})`, EXIT.USAGE);
  }
  return found.name;
}
