import { readFileSync } from 'node:fs';
import { CliError, EXIT } from '../exit-codes.js';

/** Header names in lower case → first value. The relay passes them canonicalised (X-Github-Delivery). */
export type HeaderMap = ReadonlyMap<string, string>;

/** Reads the relay's `entire-headers` JSON object (values may be strings or arrays of strings). */
export function readHeadersFile(path: string): HeaderMap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read headers file ${path}: ${(error as NodeJS.ErrnoException).code}`, EXIT.NO_INPUT);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`headers file ${path} is not JSON`, EXIT.DATA);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliError(`headers file ${path} is not a JSON object`, EXIT.DATA);
  }
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') headers.set(name.toLowerCase(), first);
  }
  return headers;
}
