import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A small but realistic `issues.opened` payload. */
export function issuePayload(
  number = 1,
  repository = 'octo-org/widgets',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const [owner, name] = repository.split('/');
  return {
    action: 'opened',
    issue: {
      number,
      title: `Widget crashes on start (#${number})`,
      body: 'Steps to reproduce: start the widget. Expected: it runs. Actual: it crashes.',
      user: { login: 'alice', type: 'User' },
      html_url: `https://github.com/${repository}/issues/${number}`,
    },
    repository: { full_name: repository, name, owner: { login: owner } },
    sender: { login: 'alice', type: 'User' },
    ...extra,
  };
}

/** Writes a payload (object or raw text/bytes) to a file and returns its path. */
export function writeBody(dir: string, name: string, body: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
  return path;
}
