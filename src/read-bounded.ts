import { readSync } from 'node:fs';

/**
 * Reads a file descriptor to its end, holding at most `maxBytes` + one chunk: returns null as soon as
 * more than `maxBytes` arrived (a pipe or /dev/zero never reports its size). Read errors are thrown.
 */
export function readAtMost(fd: number, maxBytes: number): Buffer | null {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    let read: number;
    try {
      read = readSync(fd, chunk, 0, chunk.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw error;
    }
    if (read === 0) break;
    total += read;
    if (total > maxBytes) return null;
    chunks.push(chunk.subarray(0, read));
  }
  return Buffer.concat(chunks, total);
}
