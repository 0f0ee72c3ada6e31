#!/usr/bin/env node
// Cost of making a model-written comment safe to post (src/pipeline/sanitize.ts: GFM parsed in both
// readings of bare URLs, edited, parsed again until nothing changes) against one micromark GFM parse of
// the same text, the least any parser-based sanitizer pays, paired in the same run. Comments of 2, 10
// and 35 KB that mix headings, lists, code, links, mentions and cross-repository references.
// Median of --rounds (default 15). Needs `npm run build`.
// Usage: node bench/sanitize.mjs [--rounds N]
import { micromark } from 'micromark';
import { gfm } from 'micromark-extension-gfm';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { neutralizeMarkdown } from '../dist/pipeline/sanitize.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const rounds = Number(values.rounds);

const SECTION =
  '## Findings\n\n' +
  'The crash in `parser.ts` happens when @alice calls it; see other-org/tools#12 and ' +
  '[the report](https://github.com/octo-org/widgets/issues/3). _@bob_ confirmed it on **main**.\n\n' +
  '```ts\nconst value = parse(input); // @decorator stays as written\n```\n\n' +
  '- step one, with `code`\n- step two mentions @carol\n\n| area | owner |\n|---|---|\n| intake | @dave |\n\n';

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

function time(run) {
  run();
  const samples = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

console.log(`sanitize vs one GFM parse, median of ${rounds} rounds (node ${process.version})`);
for (const kb of [2, 10, 35]) {
  const text = SECTION.repeat(Math.ceil((kb * 1024) / SECTION.length)).slice(0, kb * 1024);
  const sanitize = time(() => neutralizeMarkdown(text));
  const parse = time(() => micromark(text, { extensions: [gfm()] }));
  console.log(
    `sanitize: kb=${kb} sanitize_ms=${sanitize.toFixed(1)} one_parse_ms=${parse.toFixed(1)} ratio=${(sanitize / parse).toFixed(1)}`,
  );
}
