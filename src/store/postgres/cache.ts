import type { GitHubCacheStore } from '../store.js';
import type { RepoLabel, RepositoryFile, StickyComment } from '../types.js';
import type { Sql } from './connect.js';

export function postgresCache(sql: Sql): GitHubCacheStore {
  return {
    async cachedLabels(repository, maxAgeMs) {
      const [row] = await sql<{ labels_json: string }[]>`
        SELECT labels_json FROM label_cache
         WHERE repository = ${repository} AND hls_now_ms() - fetched_at <= ${maxAgeMs}`;
      return row ? (JSON.parse(row.labels_json) as RepoLabel[]) : undefined;
    },

    async storeLabels(repository, labels) {
      await sql`
        INSERT INTO label_cache (repository, labels_json, fetched_at)
        VALUES (${repository}, ${JSON.stringify(labels)}, hls_now_ms())
        ON CONFLICT (repository) DO UPDATE SET labels_json = excluded.labels_json, fetched_at = excluded.fetched_at`;
    },

    async knownLogin(tokenSha256) {
      const [row] = await sql<
        { login: string }[]
      >`SELECT login FROM token_identity WHERE token_sha256 = ${tokenSha256}`;
      return row?.login;
    },

    async storeLogin(tokenSha256, login) {
      await sql`
        INSERT INTO token_identity (token_sha256, login, fetched_at) VALUES (${tokenSha256}, ${login}, hls_now_ms())
        ON CONFLICT (token_sha256) DO UPDATE SET login = excluded.login, fetched_at = excluded.fetched_at`;
    },

    async stickyComment(threadKey) {
      const [row] = await sql<StickyComment[]>`
        SELECT comment_id, html_url FROM thread_comments WHERE thread_key = ${threadKey}`;
      return row;
    },

    async storeStickyComment(threadKey, comment) {
      await sql`
        INSERT INTO thread_comments (thread_key, comment_id, html_url, updated_at)
        VALUES (${threadKey}, ${comment.comment_id}, ${comment.html_url}, hls_now_ms())
        ON CONFLICT (thread_key) DO UPDATE SET comment_id = excluded.comment_id, html_url = excluded.html_url,
          updated_at = excluded.updated_at`;
    },

    async repositoryFile(repository, path) {
      const [row] = await sql<RepositoryFile[]>`
        SELECT repository, path, etag, sha, content, fetched_at, warned_sha FROM repository_files
         WHERE repository = ${repository} AND path = ${path}`;
      return row;
    },

    async storeRepositoryFile(file) {
      await sql`
        INSERT INTO repository_files (repository, path, etag, sha, content, fetched_at, warned_sha)
        VALUES (${file.repository}, ${file.path}, ${file.etag}, ${file.sha}, ${file.content}, hls_now_ms(),
          ${file.warned_sha ?? null})
        ON CONFLICT (repository, path) DO UPDATE SET etag = excluded.etag, sha = excluded.sha,
          content = excluded.content, fetched_at = excluded.fetched_at,
          warned_sha = coalesce(excluded.warned_sha, repository_files.warned_sha)`;
    },

    async touchRepositoryFile(repository, path) {
      await sql`
        UPDATE repository_files SET fetched_at = hls_now_ms() WHERE repository = ${repository} AND path = ${path}`;
    },

    async markRepositoryFileWarned(repository, path, sha) {
      const result = await sql`
        UPDATE repository_files SET warned_sha = ${sha}
         WHERE repository = ${repository} AND path = ${path} AND warned_sha IS DISTINCT FROM ${sha}`;
      return result.count > 0;
    },
  };
}
