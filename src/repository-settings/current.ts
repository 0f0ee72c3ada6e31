import { describeGitHubError, type GitHub } from '../clients/github.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { RepositoryFile } from '../store/types.js';
import { fetchSettingsFile, SETTINGS_FILE_ACCESS } from './fetch.js';
import { SETTINGS_PATH } from './narrow.js';

/**
 * The repository's .github/hls.yml as the database has it, asked of GitHub again once it is older than
 * `ttlMs` (conditionally: a 304 only moves fetched_at). A failed request keeps the stored version (none:
 * the operator's settings) and logs a warning; the event never fails because of the file. Rows are kept
 * per repository: one repository's file is never another's.
 */
export async function currentSettingsFile(args: {
  store: Store;
  /** The repository's client, asked for only when GitHub is asked (a GitHub App looks up its installation). */
  github: () => Promise<GitHub>;
  /** The repository as the operator's config names it. */
  repository: string;
  ttlMs: number;
  log: Logger;
  /** A failed request is thrown rather than logged. */
  strict?: boolean;
}): Promise<RepositoryFile | undefined> {
  const { store, github, repository, log } = args;
  const stored = await store.cache.repositoryFile(repository, SETTINGS_PATH);
  if (stored && store.clock() - stored.fetched_at < args.ttlMs) return stored;
  try {
    const fetched = await fetchSettingsFile(await github(), repository, stored?.etag ?? null);
    if (fetched.kind === 'unchanged') {
      await store.cache.touchRepositoryFile(repository, SETTINGS_PATH);
    } else if (fetched.kind === 'found') {
      const { content, sha, etag } = fetched;
      await store.cache.storeRepositoryFile({ repository, path: SETTINGS_PATH, etag, sha, content });
    } else {
      await store.cache.storeRepositoryFile({
        repository,
        path: SETTINGS_PATH,
        etag: fetched.etag,
        sha: null,
        content: null,
      });
    }
  } catch (error) {
    if (args.strict) throw error;
    log.warn(
      `${SETTINGS_PATH} of ${repository} not read: using ${stored ? 'the stored version' : "the operator's settings"}`,
      {
        repository,
        error: describeGitHubError(error, SETTINGS_FILE_ACCESS),
      },
    );
    // Asked again after the TTL, not at every event.
    if (stored) await store.cache.touchRepositoryFile(repository, SETTINGS_PATH);
    return stored;
  }
  return store.cache.repositoryFile(repository, SETTINGS_PATH);
}
