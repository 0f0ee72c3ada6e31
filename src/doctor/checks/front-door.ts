import { readFileSync, statSync } from 'node:fs';
import type { CommandContext } from '../../commands/command-context.js';
import { formatMs } from '../../commands/format.js';
import { countRanges } from '../../front-door/allowlist.js';
import { fetchAllowlist } from '../../front-door/meta.js';
import { ok, warn, type Check } from '../check.js';
import { NETWORK_TIMEOUT_MS } from './network.js';

/** The daily timer keeps the file younger than a day; a week means the timer is not running. */
export const ALLOWLIST_MAX_AGE_MS = 7 * 86_400_000;

/**
 * The nginx allowlist (`front_door.allowlist_file`): WARN when it is missing, older than a week, or not
 * what `hls allowlist` would write from GitHub's /meta now. Nothing when the key is not set.
 */
export async function checkFrontDoor(
  context: CommandContext | undefined,
  env: NodeJS.ProcessEnv,
  now = Date.now(),
): Promise<Check[]> {
  const name = 'allowlist';
  // Not every install has nginx in front: no line at all rather than a SKIP on every run.
  const file = context?.config.front_door.allowlist_file;
  if (!context || !file) return [];
  const refresh = `run \`hls allowlist --output ${file}\` and reload nginx; check the hls-allowlist.timer`;
  let text: string;
  let age: number;
  try {
    age = now - statSync(file).mtimeMs;
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return [warn(name, `${file}: ${code === 'ENOENT' ? 'missing' : (code ?? (error as Error).message)}; ${refresh}`)];
  }
  const problems: string[] = [];
  if (age > ALLOWLIST_MAX_AGE_MS) problems.push(`not rewritten for ${formatMs(age)}`);
  let ranges = 0;
  try {
    const allowlist = await fetchAllowlist(context.config, env, context.log, {
      retries: 0,
      signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS),
    });
    ranges = allowlist.ranges.length;
    if (allowlist.text !== text) problems.push(`differs from ${allowlist.source}/meta (${countRanges(ranges)} there)`);
  } catch (error) {
    problems.push(`cannot compare with GitHub: ${(error as Error).message}`);
  }
  if (problems.length > 0) return [warn(name, `${file}: ${problems.join('; ')}; ${refresh}`)];
  return [ok(name, `${file}: matches /meta (${countRanges(ranges)}), written ${formatMs(age)} ago`)];
}
