import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What a passfile line is matched against. */
export interface PassfileTarget {
  host: string;
  port: string;
  database: string;
  user: string;
}

/**
 * The password of the first line of a libpq passfile (`host:port:database:user:password`) matching
 * the target; `*` matches anything, `\:` and `\\` stand for a colon and a backslash, `#` starts a comment.
 */
export function findPassword(text: string, target: PassfileTarget): string | undefined {
  const wanted = [target.host, target.port, target.database, target.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) continue;
    const fields = splitLine(line);
    if (fields.length < 5) continue; // libpq skips lines without a password field
    if (wanted.every((value, i) => fields[i] === '*' || fields[i] === value)) return fields[4];
  }
  return undefined;
}

function splitLine(line: string): string[] {
  const fields = [''];
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) fields[fields.length - 1] += line[++i];
    else if (c === ':' && fields.length < 5) fields.push('');
    else fields[fields.length - 1] += c;
  }
  return fields;
}

/**
 * The password for `target` from PGPASSFILE or ~/.pgpass. Like libpq, a file that group or others
 * may read is ignored (it is not a place for a secret), and so is a missing one.
 */
export function passwordFromPassfile(target: PassfileTarget, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = env.PGPASSFILE || join(homedir(), '.pgpass');
  try {
    const stat = statSync(path);
    if (!stat.isFile() || (stat.mode & 0o077) !== 0) return undefined;
    return findPassword(readFileSync(path, 'utf8'), target);
  } catch {
    return undefined;
  }
}
