import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `text` atomically, so that node_exporter's textfile collector never reads half a
 * file: written to a temp file in the same directory (a name not ending in .prom, which the collector
 * ignores), flushed, made 0644 whatever the umask, then renamed over `path`. The temp file is removed
 * when anything fails.
 */
export function writeTextfile(path: string, text: string): void {
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
