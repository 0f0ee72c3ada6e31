/** Deepest nesting `hls queue` accepts; real GitHub payloads nest at most 7 levels (webhooks-examples). */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * The deepest bracket nesting of JSON text, read from its bytes in one pass without parsing (JSON.parse
 * of 10 M nested arrays takes about 1 GB). Brackets inside strings do not count; a quote ends a string
 * only after an even run of backslashes. Stops as soon as the depth passes `stopAbove` and returns
 * `stopAbove + 1`. Bytes of multi-byte UTF-8 characters are all ≥ 0x80, so they never look like syntax.
 * Invalid JSON gets some depth; JSON.parse rejects it afterwards.
 */
export function jsonNestingDepth(bytes: Uint8Array, stopAbove = Infinity): number {
  let depth = 0;
  let deepest = 0;
  const length = bytes.length;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      i = stringEnd(bytes, i + 1);
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if ((byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) && depth > 0) {
      depth--;
    }
  }
  return deepest;
}

/** Index of the quote that closes the string starting at `from` (or the end of the text). */
function stringEnd(bytes: Uint8Array, from: number): number {
  for (let i = from; ; i++) {
    i = bytes.indexOf(QUOTE, i);
    if (i === -1) return bytes.length;
    let backslashes = 0;
    while (bytes[i - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
}
