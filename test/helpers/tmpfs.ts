// A real, small file system that can be filled: a tmpfs mounted for one test file (root only).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';

/** CI or HLS_REQUIRE_FULL_DISK: not being able to mount a tmpfs (not root) is a failure, not a skip. */
export const FULL_DISK_REQUIRED = Boolean(process.env.CI || process.env.HLS_REQUIRE_FULL_DISK);

const IS_ROOT = process.getuid?.() === 0;

/**
 * `describe` for suites that mount a tmpfs, with the rule of the relay suites: when not root, fail
 * when CI or HLS_REQUIRE_FULL_DISK is set, else skip with a loud warning naming `file`.
 */
export function describeAsRoot(file: string, name: string, body: () => void): void {
  if (IS_ROOT) {
    describe(name, body);
  } else if (FULL_DISK_REQUIRED) {
    describe(name, () => {
      it('needs root to mount a tmpfs', () => {
        throw new Error(
          `${file} mounts a tmpfs, which needs root, and CI or HLS_REQUIRE_FULL_DISK is set: run as root`,
        );
      });
    });
  } else {
    console.warn(
      `\n*** WARNING: ${file} DID NOT RUN: it mounts a tmpfs to fill it, which needs root.\n` +
        '*** Run the tests as root, or set HLS_REQUIRE_FULL_DISK=1 to make this an error.\n',
    );
    describe.skip(name, () => {
      it('is not root', () => {});
    });
  }
}

/** Mounts a tmpfs of `sizeBytes` on a new directory and returns the directory. */
export function mountTmpfs(sizeBytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'hls-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir]);
  return dir;
}

export function unmountTmpfs(dir: string): void {
  execFileSync('umount', [dir]);
  rmdirSync(dir);
}

/** Writes `path` until the file system says ENOSPC; returns the bytes written. */
export function fillUp(path: string): number {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk, 0, chunk.length);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return written;
}

export function freeBytes(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}
