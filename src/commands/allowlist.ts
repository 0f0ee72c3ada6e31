import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, EXIT } from '../exit-codes.js';
import { countRanges } from '../front-door/allowlist.js';
import { fetchAllowlist } from '../front-door/meta.js';
import { writeAtomically } from '../write-atomic.js';
import { commandContext, type GlobalOptions } from './command-context.js';
import { printJson, printLines } from './format.js';

export interface AllowlistFlags extends GlobalOptions {
  output?: string;
  json?: boolean;
  dryRun?: boolean;
}

/** The exit code of an allowlist that already matched GitHub: nothing written, nginx needs no reload. */
export const ALLOWLIST_UNCHANGED = 2;

/**
 * `hls allowlist`: writes GitHub's webhook source ranges as nginx `allow` lines to --output (default
 * `front_door.allowlist_file`), atomically and only when they changed. Exit 0: written (reload nginx);
 * ALLOWLIST_UNCHANGED: already current; 65/69: GitHub's answer was refused or unreachable, the old
 * file is kept; 73: the file could not be read or replaced.
 */
export async function runAllowlist(flags: AllowlistFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { config, log } = commandContext(flags, env);
  const file = flags.output ?? config.front_door.allowlist_file;
  if (!file) {
    throw new CliError('no allowlist file: give --output FILE or set front_door.allowlist_file', EXIT.USAGE);
  }
  const path = resolve(file);
  const allowlist = await fetchAllowlist(config, env, log);
  const changed = readIfPresent(path) !== allowlist.text;
  const written = changed && !flags.dryRun;
  if (written) replace(path, allowlist.text);

  const families = [4, 6].map((family) => allowlist.ranges.filter((range) => range.family === family).length);
  if (flags.json) {
    printJson({
      file: path,
      source: `${allowlist.source}/meta`,
      changed,
      written,
      ranges: allowlist.ranges.map((range) => range.text),
    });
  } else {
    const what = `${path}: ${countRanges(allowlist.ranges.length)} (${families[0]} IPv4, ${families[1]} IPv6)`;
    const verdict = !changed ? `unchanged ${what}` : written ? `written ${what}; reload nginx` : `would write ${what}`;
    printLines(flags.dryRun && changed ? [verdict, allowlist.text.trimEnd()] : [verdict]);
  }
  return changed ? EXIT.OK : ALLOWLIST_UNCHANGED;
}

/** The current file's text, or null when there is none yet. */
function readIfPresent(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new CliError(`cannot read ${path}: ${code ?? (error as Error).message}`, EXIT.CANT_CREATE);
  }
}

function replace(path: string, text: string): void {
  try {
    writeAtomically(path, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      `cannot replace ${path}: ${code ?? (error as Error).message} (the directory must be writable by hls)`,
      EXIT.CANT_CREATE,
    );
  }
}
