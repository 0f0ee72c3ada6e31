import type { GitHub } from '../clients/github.js';
import { SETTINGS_PATH } from './narrow.js';
import { MAX_SETTINGS_BYTES, unreadableContent } from './read-file.js';

/** What a refused read of the file needs, said wherever one is reported. */
export const SETTINGS_FILE_ACCESS =
  'the token or App needs read access to the repository contents (an App: the Contents permission)';

/** What the contents API said about the file. */
export type FetchedFile =
  | { kind: 'found'; content: string; sha: string; etag: string | null }
  | { kind: 'absent'; etag: string | null }
  /** 304: the version of `etag` is still current (costs no rate limit). */
  | { kind: 'unchanged' };

interface ContentsAnswer {
  type?: unknown;
  encoding?: unknown;
  size?: unknown;
  sha?: unknown;
  content?: unknown;
}

/**
 * `GET /repos/{o}/{r}/contents/.github/hls.yml` on the default branch, conditional on `etag` when a
 * version is stored. Any other failure than 304/404 is thrown for the caller to keep what it has.
 */
export async function fetchSettingsFile(
  github: GitHub,
  repository: string,
  etag: string | null,
  request: { retries?: number; signal?: AbortSignal } = {},
): Promise<FetchedFile> {
  const [owner, repo] = repository.split('/') as [string, string];
  try {
    const answer = await github.rest.repos.getContent({
      owner,
      repo,
      path: SETTINGS_PATH,
      headers: etag ? { 'if-none-match': etag } : {},
      request,
    });
    const data = answer.data as ContentsAnswer;
    const sha = typeof data.sha === 'string' ? data.sha : '';
    return { kind: 'found', content: fileText(data), sha, etag: answer.headers.etag ?? null };
  } catch (error) {
    const { status, response } = error as { status?: number; response?: { headers?: Record<string, string> } };
    if (status === 304) return { kind: 'unchanged' };
    if (status === 404) return { kind: 'absent', etag: response?.headers?.etag ?? null };
    throw error;
  }
}

/** The file's text, or why it cannot be read (kept so, it makes the file invalid until it changes). */
function fileText(data: ContentsAnswer): string {
  if (Array.isArray(data) || data.type !== 'file') return unreadableContent('not a file');
  if (typeof data.size === 'number' && data.size > MAX_SETTINGS_BYTES) {
    return unreadableContent(`larger than ${MAX_SETTINGS_BYTES / 1024} KiB`);
  }
  if (data.encoding !== 'base64' || typeof data.content !== 'string') {
    return unreadableContent(`content in an unexpected encoding (${String(data.encoding)})`);
  }
  const bytes = Buffer.from(data.content, 'base64');
  if (bytes.length > MAX_SETTINGS_BYTES) return unreadableContent(`larger than ${MAX_SETTINGS_BYTES / 1024} KiB`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return unreadableContent('not UTF-8 text');
  }
  return text.includes('\0') ? unreadableContent('not a text file (NUL bytes)') : text;
}
