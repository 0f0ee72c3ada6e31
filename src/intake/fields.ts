/** Shapes of the payload fields that name things on GitHub; shared by `hls queue` and the worker's schemas. */

/** Event names (X-GitHub-Event) and actions: lower-case words joined by underscores. */
export const GITHUB_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** `owner/repo`: GitHub's characters, and never `.` or `..` as a part (it would walk up an API path). */
const REPOSITORY = /^(?!\.{1,2}\/)[A-Za-z0-9_.-]{1,100}\/(?!\.{1,2}$)[A-Za-z0-9_.-]{1,100}$/;

/**
 * Issue and pull request numbers, run and job ids: a JSON number above 2^53 - 1 has already lost
 * precision when it is parsed, so it would name another issue.
 */
export function isGitHubNumber(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

export function isRepositoryName(value: unknown): value is string {
  return typeof value === 'string' && REPOSITORY.test(value);
}
