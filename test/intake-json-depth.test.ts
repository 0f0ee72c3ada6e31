// The byte scanner `hls queue` runs before JSON.parse: adversarial inputs, and a generated comparison
// with the depth of what JSON.parse builds.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonNestingDepth, MAX_JSON_DEPTH } from '../src/intake/json-depth.js';
import { seededRandom } from './helpers/random.js';

const depthOf = (text: string | Buffer, stopAbove?: number) =>
  jsonNestingDepth(typeof text === 'string' ? Buffer.from(text) : text, stopAbove);

/** Nesting of a parsed value: containers count, scalars do not. */
function parsedDepth(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce<number>((deepest, child) => Math.max(deepest, parsedDepth(child)), 0);
}

describe('jsonNestingDepth', () => {
  it.each([
    ['an empty body', '', 0],
    ['a scalar', '42', 0],
    ['a string', '"[[[{{{"', 0],
    ['an empty object', '{}', 1],
    ['brackets inside a string', '{"a":"[[[[{{{{]]]]"}', 1],
    ['an escaped quote before brackets', '{"a":"\\"[[[{{"}', 1],
    ['an escaped backslash closing the string', '{"a":"\\\\","b":[[1]]}', 3],
    ['an even run of backslashes before the quote', '{"a":"\\\\\\\\\\\\","b":[[[1]]]}', 4],
    ['an odd run of backslashes (the quote is escaped)', '{"a":"\\\\\\"[[[","b":[1]}', 2],
    ['a \\u0022 escape is no quote', '{"a":"\\u0022[[[","b":[1]}', 2],
    ['brackets in keys', '{"[[[":{"]]]":[]}}', 3],
    ['unicode around brackets', '{"ü":"日本[{","b":["😀",["ß"]]}', 3],
    ['an unterminated string swallows the rest', '{"a":"[[[[[', 1],
    ['more closing than opening brackets', ']]]]}}[[', 2],
    ['siblings do not add up', '[[1],[2],[[3]],{"a":{}}]', 3],
  ])('%s', (_name, text, expected) => {
    expect(depthOf(text)).toBe(expected);
    expect(parsedDepthOrScan(text)).toBe(expected);
  });

  it('reads bytes that are not UTF-8 (≥ 0x80) as string content, never as syntax', () => {
    const body = Buffer.concat([
      Buffer.from('{"a":"'),
      Buffer.from([0xff, 0x5b, 0xfe, 0x80, 0x7b]),
      Buffer.from('","b":[1]}'),
    ]);
    expect(depthOf(body)).toBe(2);
  });

  it('counts deep but legal nesting exactly, up to the limit', () => {
    const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    expect(depthOf(deep(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(MAX_JSON_DEPTH);
    expect(depthOf(deep(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(MAX_JSON_DEPTH + 1);
    expect(depthOf(deep(5000))).toBe(5000);
  });

  it('stops at the limit in 10 M levels of arrays (20 MB) and counts them all without one', () => {
    const levels = 10_000_000;
    const body = Buffer.alloc(levels * 2, '[');
    body.fill(']', levels);
    expect(depthOf(body, MAX_JSON_DEPTH)).toBe(MAX_JSON_DEPTH + 1);
    expect(depthOf(body)).toBe(levels);
  });

  it('a 20 MB string of backslashes and quotes stays one string', () => {
    const inner = '\\\\\\"'.repeat(5 * 1024 * 1024); // pairs of escaped backslashes, then an escaped quote
    expect(depthOf(`{"a":"${inner}[[[","b":{"c":[]}}`)).toBe(3);
  });

  it('agrees with JSON.parse on 2,000 generated documents', () => {
    const random = seededRandom(0x5eed);
    for (let i = 0; i < 2000; i++) {
      const value = generate(random, Math.floor(random() * 10));
      const text = JSON.stringify(value, null, random() < 0.3 ? 2 : undefined);
      expect(depthOf(text), text.slice(0, 200)).toBe(parsedDepth(JSON.parse(text)));
    }
  });

  it('agrees with JSON.parse on every payload of @octokit/webhooks-examples (deepest: 7)', () => {
    const file = createRequire(import.meta.url).resolve('@octokit/webhooks-examples/api.github.com/index.json');
    const corpus = JSON.parse(readFileSync(file, 'utf8')) as { examples: unknown[] }[];
    let deepest = 0;
    for (const example of corpus.flatMap((entry) => entry.examples)) {
      const depth = depthOf(JSON.stringify(example));
      expect(depth).toBe(parsedDepth(example));
      deepest = Math.max(deepest, depth);
    }
    expect(deepest).toBeLessThanOrEqual(MAX_JSON_DEPTH / 8);
  });
});

/** For valid JSON, the parsed depth; for the invalid cases of the table, the scan itself. */
function parsedDepthOrScan(text: string): number {
  try {
    return parsedDepth(JSON.parse(text));
  } catch {
    return depthOf(text);
  }
}

const NASTY = ['[', ']', '{', '}', '"', '\\', '\\\\', '\\"', ':', ',', 'ü', '日', '😀', '\u0000', '\n', 'a', ' '];

function randomString(random: () => number): string {
  let text = '';
  const length = Math.floor(random() * 10);
  for (let i = 0; i < length; i++) text += NASTY[Math.floor(random() * NASTY.length)];
  return text;
}

function generate(random: () => number, depth: number): unknown {
  if (depth === 0) {
    const pick = random();
    return pick < 0.4 ? randomString(random) : pick < 0.7 ? Math.floor(random() * 1e6) : pick < 0.85 ? null : true;
  }
  const size = 1 + Math.floor(random() * 4);
  const children = Array.from({ length: size }, (_, index) =>
    generate(random, index === 0 ? depth - 1 : Math.floor(random() * depth)),
  );
  if (random() < 0.5) return children;
  return Object.fromEntries(children.map((child) => [randomString(random), child]));
}
