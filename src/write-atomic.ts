import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CliError, EXIT } from './exit-codes.js';

/**
 * Replaces `path` with `text` atomically, so that a reader (node_exporter's textfile collector, nginx, a
 * web server) never sees half a file: written to a temp file in the same directory (a name not ending in .prom, which the collector
 * ignores), flushed, made 0644 whatever the umask, then renamed over `path`. The temp file is removed
 * when anything fails.
 */
export function writeAtomically(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', 0o644);
    writeFileSync(fd, text);
    fchmodSync(fd, 0o644);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
}

/** A read command's output: `text` on stdout, or with `output` the file replaced atomically (73 when it cannot be). */
export function printOrReplace(text: string, output: string | undefined): number {
  if (output === undefined) {
    process.stdout.write(text);
    return EXIT.OK;
  }
  try {
    writeAtomically(output, text);
  } catch (error) {
    throw new CliError(`cannot write ${output}: ${(error as Error).message}`, EXIT.CANT_CREATE);
  }
  return EXIT.OK;
}
