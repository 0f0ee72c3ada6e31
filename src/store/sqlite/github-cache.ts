import type { Db } from './open.js';
import { statement } from './statements.js';
import type { RepoLabel, RepositoryFile, StickyComment } from '../types.js';

export function cachedLabels(db: Db, repository: string, maxAgeMs: number, now: number): RepoLabel[] | undefined {
  const row = statement(db, `SELECT labels_json, fetched_at FROM label_cache WHERE repository = ?`).get(repository) as
    { labels_json: string; fetched_at: number } | undefined;
  return row && now - row.fetched_at <= maxAgeMs ? (JSON.parse(row.labels_json) as RepoLabel[]) : undefined;
}

export function storeLabels(db: Db, repository: string, labels: RepoLabel[], now: number): void {
  statement(
    db,
    `INSERT INTO label_cache (repository, labels_json, fetched_at) VALUES (?, ?, ?)
     ON CONFLICT (repository) DO UPDATE SET labels_json = excluded.labels_json, fetched_at = excluded.fetched_at`,
  ).run(repository, JSON.stringify(labels), now);
}

export function knownLogin(db: Db, tokenSha256: string): string | undefined {
  const row = statement(db, `SELECT login FROM token_identity WHERE token_sha256 = ?`).get(tokenSha256) as
    { login: string } | undefined;
  return row?.login;
}

export function storeLogin(db: Db, tokenSha256: string, login: string, now: number): void {
  statement(
    db,
    `INSERT INTO token_identity (token_sha256, login, fetched_at) VALUES (?, ?, ?)
     ON CONFLICT (token_sha256) DO UPDATE SET login = excluded.login, fetched_at = excluded.fetched_at`,
  ).run(tokenSha256, login, now);
}

export function stickyComment(db: Db, threadKey: string): StickyComment | undefined {
  return statement(db, `SELECT comment_id, html_url FROM thread_comments WHERE thread_key = ?`).get(threadKey) as
    StickyComment | undefined;
}

export function storeStickyComment(db: Db, threadKey: string, comment: StickyComment, now: number): void {
  statement(
    db,
    `INSERT INTO thread_comments (thread_key, comment_id, html_url, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (thread_key) DO UPDATE SET comment_id = excluded.comment_id, html_url = excluded.html_url,
       updated_at = excluded.updated_at`,
  ).run(threadKey, comment.comment_id, comment.html_url, now);
}

export function repositoryFile(db: Db, repository: string, path: string): RepositoryFile | undefined {
  return statement(
    db,
    `SELECT repository, path, etag, sha, content, fetched_at, warned_sha FROM repository_files
      WHERE repository = ? AND path = ?`,
  ).get(repository, path) as RepositoryFile | undefined;
}

export function storeRepositoryFile(
  db: Db,
  file: Omit<RepositoryFile, 'fetched_at' | 'warned_sha'> & { warned_sha?: string | null },
  now: number,
): void {
  statement(
    db,
    `INSERT INTO repository_files (repository, path, etag, sha, content, fetched_at, warned_sha)
     VALUES (@repository, @path, @etag, @sha, @content, @now, @warned_sha)
     ON CONFLICT (repository, path) DO UPDATE SET etag = excluded.etag, sha = excluded.sha, content = excluded.content,
       fetched_at = excluded.fetched_at, warned_sha = coalesce(excluded.warned_sha, repository_files.warned_sha)`,
  ).run({ ...file, warned_sha: file.warned_sha ?? null, now });
}

export function touchRepositoryFile(db: Db, repository: string, path: string, now: number): void {
  statement(db, `UPDATE repository_files SET fetched_at = ? WHERE repository = ? AND path = ?`).run(
    now,
    repository,
    path,
  );
}

export function markRepositoryFileWarned(db: Db, repository: string, path: string, sha: string): boolean {
  return (
    statement(
      db,
      `UPDATE repository_files SET warned_sha = ?
        WHERE repository = ? AND path = ? AND warned_sha IS NOT ?`,
    ).run(sha, repository, path, sha).changes > 0
  );
}
