import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CliError, EXIT } from '../exit-codes.js';

/** GitHub caps payloads at 25 MB; anything larger is not a GitHub delivery. */
export const MAX_BODY_BYTES = 25 * 1024 * 1024;

/** Reads the raw body from a file (or stdin for "-") without ever holding more than the limit + 1 byte. */
export function readBody(path: string): Buffer {
  let fd: number;
  try {
    fd = path === '-' ? 0 : openSync(path, 'r');
  } catch (error) {
    throw new CliError(`cannot read body file ${path}: ${(error as NodeJS.ErrnoException).code}`, EXIT.NO_INPUT);
  }
  try {
    if (path !== '-' && fstatSync(fd).size > MAX_BODY_BYTES) throw tooLarge();
    return readUpToLimit(fd);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

function readUpToLimit(fd: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    let read: number;
    try {
      read = readSync(fd, chunk, 0, chunk.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      throw new CliError(`cannot read body: ${code}`, EXIT.NO_INPUT);
    }
    if (read === 0) break;
    total += read;
    if (total > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk.subarray(0, read));
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(): CliError {
  return new CliError(`body is larger than ${MAX_BODY_BYTES} bytes (GitHub's 25 MiB payload cap)`, EXIT.DATA);
}
