import type { GitHub } from '../../clients/github.js';

/** Roles that may give commands; `permission` (the legacy field) reads maintain as write. */
const COMMANDING_ROLES = new Set(['admin', 'maintain', 'write']);
/** A permission is asked of GitHub again after this long. */
const CACHE_MS = 60_000;
/** The cache is emptied when it holds more entries than this. */
const CACHE_ENTRIES = 1000;

export interface SenderPermission {
  allowed: boolean;
  /** GitHub's role_name (a custom role's own name), or `none` for a user GitHub does not know. */
  role: string;
}

const cache = new Map<string, SenderPermission & { until: number }>();

/**
 * Whether `login` has write, maintain or admin permission on `repository`, asked of GitHub
 * (GET /repos/{o}/{r}/collaborators/{username}/permission) and kept for a minute in this process.
 */
export async function senderPermission(
  github: GitHub,
  repository: string,
  login: string,
  now: number,
): Promise<SenderPermission> {
  const key = `${repository.toLowerCase()}\n${login.toLowerCase()}`;
  const cached = cache.get(key);
  if (cached && cached.until > now) return { allowed: cached.allowed, role: cached.role };
  const [owner, repo] = repository.split('/') as [string, string];
  let found: SenderPermission;
  try {
    const { data } = await github.repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
    const role = data.role_name || data.permission;
    found = { allowed: COMMANDING_ROLES.has(role) || COMMANDING_ROLES.has(data.permission), role };
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
    found = { allowed: false, role: 'none' };
  }
  if (cache.size >= CACHE_ENTRIES) cache.clear();
  cache.set(key, { ...found, until: now + CACHE_MS });
  return found;
}
