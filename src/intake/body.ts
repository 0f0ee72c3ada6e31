import { closeSync, fstatSync, openSync } from 'node:fs';
import { CliError, EXIT } from '../exit-codes.js';
import { readAtMost } from '../read-bounded.js';
import { jsonNestingDepth, MAX_JSON_DEPTH } from './json-depth.js';

/** GitHub caps payloads at 25 MB; anything larger is not a GitHub delivery. */
export const MAX_BODY_BYTES = 25 * 1024 * 1024;

/**
 * Reads the raw body from a file (or stdin for "-") without ever holding more than the limit + 1 MiB,
 * and refuses one nested deeper than MAX_JSON_DEPTH before anything parses it.
 */
export function readBody(path: string): Buffer {
  let fd: number;
  try {
    fd = path === '-' ? 0 : openSync(path, 'r');
  } catch (error) {
    throw new CliError(`cannot read body file ${path}: ${(error as NodeJS.ErrnoException).code}`, EXIT.NO_INPUT);
  }
  let body: Buffer | null;
  try {
    if (path !== '-' && fstatSync(fd).size > MAX_BODY_BYTES) throw tooLarge();
    body = readAtMost(fd, MAX_BODY_BYTES);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read body: ${(error as NodeJS.ErrnoException).code}`, EXIT.NO_INPUT);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
  if (body === null) throw tooLarge();
  if (jsonNestingDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new CliError(`body is nested deeper than ${MAX_JSON_DEPTH} levels`, EXIT.DATA);
  }
  return body;
}

function tooLarge(): CliError {
  return new CliError(`body is larger than ${MAX_BODY_BYTES} bytes (GitHub's 25 MiB payload cap)`, EXIT.DATA);
}
