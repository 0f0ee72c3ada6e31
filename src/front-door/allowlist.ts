import { parseCidr, type Cidr } from './cidr.js';

/**
 * GitHub publishes a handful of webhook ranges (6 in 2026). More than this, or a range wider than the
 * minimum prefixes, means the answer is not what it should be: the old file is kept.
 */
export const MAX_RANGES = 256;
export const MIN_PREFIX = { 4: 8, 6: 16 } as const;

/** The `hooks` ranges of a `GET /meta` answer, checked and in canonical order; throws an Error saying why not. */
export function hookRanges(meta: unknown): Cidr[] {
  const hooks = (meta as { hooks?: unknown } | null)?.hooks;
  if (!Array.isArray(hooks)) throw new Error('the answer has no "hooks" list');
  if (hooks.length === 0) throw new Error('the "hooks" list is empty');
  if (hooks.length > MAX_RANGES) throw new Error(`the "hooks" list has ${hooks.length} ranges (at most ${MAX_RANGES})`);
  const unique = new Map<string, Cidr>();
  for (const entry of hooks) {
    if (typeof entry !== 'string') throw new Error(`${JSON.stringify(entry)} in "hooks" is not a string`);
    const cidr = parseCidr(entry);
    if (cidr.prefix < MIN_PREFIX[cidr.family]) {
      throw new Error(`${cidr.text} is wider than /${MIN_PREFIX[cidr.family]}: not a plausible webhook source range`);
    }
    unique.set(cidr.text, cidr);
  }
  return [...unique.values()].sort(compareCidrs);
}

function compareCidrs(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return a.bytes[i]! - b.bytes[i]!;
  return a.prefix - b.prefix;
}

export const countRanges = (count: number): string => `${count} range${count === 1 ? '' : 's'}`;

/**
 * The nginx include: one `allow` line per range. No timestamp, so that the same ranges give the same
 * bytes and an unchanged answer changes nothing. `source` is the API URL without credentials.
 */
export function renderAllowlist(ranges: Cidr[], source: string): string {
  return [
    `# GitHub webhook source ranges ("hooks" of GET ${source}/meta), written by \`hls allowlist\`.`,
    '# Included by the hls server block before `deny all;`. Rewritten whole: do not edit.',
    ...ranges.map((range) => `allow ${range.text};`),
    '',
  ].join('\n');
}
