#!/usr/bin/env node
// Cost of the nesting-depth scan `hls queue` runs on every body before JSON.parse, against JSON.parse
// itself (decoding the bytes included, as hls queue does), paired in the same run: a 25 MB body made of
// real payloads, a 25 MB body that is one long issue text full of escapes, and each payload of
// @octokit/webhooks-examples on its own. Median of --rounds (default 15). Needs `npm run build`.
// Usage: node bench/json-depth.mjs [--rounds N]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { jsonNestingDepth, MAX_JSON_DEPTH } from '../dist/intake/json-depth.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const rounds = Number(values.rounds);
const SIZE = 25 * 1024 * 1024 - 1024;

const corpusFile = createRequire(import.meta.url).resolve('@octokit/webhooks-examples/api.github.com/index.json');
const examples = JSON.parse(readFileSync(corpusFile, 'utf8')).flatMap((entry) => entry.examples);
const exampleBodies = examples.map((example) => Buffer.from(JSON.stringify(example)));

/** `{"examples":[…]}` repeating the real payloads until the body is about `SIZE` bytes. */
function realisticBody() {
  const parts = [];
  let size = 0;
  for (let i = 0; size < SIZE - 200_000; i = (i + 1) % exampleBodies.length) {
    parts.push(exampleBodies[i]);
    size += exampleBodies[i].length + 1;
  }
  return Buffer.from(`{"examples":[${parts.join(',')}]}`);
}

/** An issues.opened payload whose body is one long text with quotes, backslashes, brackets and unicode. */
function longTextBody() {
  const line = 'Steps: run `x["a"]` then {"b": [1]} \\ path C:\\tmp — ünïcödé 日本 😀\n';
  const body = line.repeat(Math.floor(SIZE / Buffer.byteLength(JSON.stringify(line))));
  return Buffer.from(JSON.stringify({ ...examples[0], issue: { number: 1, title: 'Long', body } }));
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

/** Median ms of scan and of parse over the rounds, alternating the two so both see the same machine state. */
function measure(bodies) {
  const scan = [];
  const parse = [];
  for (let round = 0; round < rounds; round++) {
    let start = performance.now();
    for (const body of bodies) jsonNestingDepth(body, MAX_JSON_DEPTH);
    scan.push(performance.now() - start);
    start = performance.now();
    for (const body of bodies) JSON.parse(body.toString('utf8'));
    parse.push(performance.now() - start);
  }
  return { scan: median(scan), parse: median(parse) };
}

const cases = [
  ['25 MB of real payloads', [realisticBody()]],
  ['25 MB issue text full of escapes', [longTextBody()]],
  [`webhooks-examples, ${exampleBodies.length} payloads one by one`, exampleBodies],
];
console.log(`depth scan vs JSON.parse, median of ${rounds} rounds (node ${process.version})`);
for (const [name, bodies] of cases) {
  const bytes = bodies.reduce((sum, body) => sum + body.length, 0);
  const { scan, parse } = measure(bodies);
  console.log(
    `${name.padEnd(44)} ${(bytes / 1024 / 1024).toFixed(1).padStart(5)} MiB  scan ${scan.toFixed(2).padStart(7)} ms` +
      `  parse ${parse.toFixed(2).padStart(7)} ms  scan/parse ${(scan / parse).toFixed(2)}  ` +
      `scan ${((bytes / 1024 / 1024 / scan) * 1000).toFixed(0)} MiB/s`,
  );
}
