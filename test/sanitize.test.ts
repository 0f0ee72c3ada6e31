import MarkdownIt from 'markdown-it';
import { parseFragment } from 'parse5';
import { afterEach, describe, expect, it } from 'vitest';
import type { Triage } from '../src/pipeline/analysis.js';
import { commentBody } from '../src/pipeline/act.js';
import { hasThreadMarker, MAX_COMMENT_CHARS } from '../src/pipeline/sanitize.js';
import { runHls } from './helpers/hls.js';
import { queueIssueEvent, REPO, stage, type Stage } from './helpers/pipeline.js';
import { seededRandom, pick } from './helpers/random.js';

// The judge is independent of the sanitizer: markdown-it renders (CommonMark + tables, strikethrough,
// raw HTML and bare URLs as GitHub does) and parse5 reads the HTML back, as a browser would.
const markdown = new MarkdownIt({ html: true, linkify: true });

const THREAD = 'octo-org/widgets#1';
const MARKER = ` hls:thread ${THREAD} `;

/** GitHub's rules, applied to each text node outside code, preformatted text and links. */
const LIVE_TEXT: Array<[string, RegExp]> = [
  ['mention', /(?:^|[^A-Za-z0-9_])@[A-Za-z0-9]/],
  ['cross-repository reference', /[A-Za-z0-9-]+\/[A-Za-z0-9._-]+#\d/],
  ['cross-repository commit', /[A-Za-z0-9-]+\/[A-Za-z0-9._-]+@[0-9a-f]{7}/],
  ['issue URL', /github\.com\/[^\s/]+\/[^\s/]+\/(?:issues|pull)\/\d/],
];
const ISSUE_HREF = /github\.com\/[^\s/]+\/[^\s/]+\/(?:issues|pull)\/\d/;
const URL_BEFORE_BACKTICK = /(?:https?:\/\/|www\.)[^\s<]*`/;
const SKIPPED = new Set(['code', 'pre', 'a', 'script', 'style']);

interface HtmlNode {
  nodeName: string;
  value?: string;
  data?: string;
  attrs?: Array<{ name: string; value: string }>;
  childNodes?: HtmlNode[];
}

interface Rendered {
  live: string[];
  markers: string[];
  footer: boolean;
}

/** What GitHub would make of a comment body: live pings and references, hidden markers, the footer. */
function render(body: string): Rendered {
  const rendered: Rendered = { live: [], markers: [], footer: false };
  // Comments are counted everywhere (an <a> the model left open holds the rest of the body).
  const visit = (node: HtmlNode, scanned: boolean) => {
    if (node.nodeName === '#text' && scanned) {
      for (const [what, pattern] of LIVE_TEXT) {
        const found = pattern.exec(node.value!);
        if (found) rendered.live.push(`${what}: ${JSON.stringify(found[0])} in ${JSON.stringify(node.value)}`);
      }
    } else if (node.nodeName === '#comment') {
      if (node.data!.includes('hls:')) rendered.markers.push(node.data!);
    } else if (node.nodeName === 'a' && scanned) {
      const href = node.attrs?.find((attr) => attr.name === 'href')?.value ?? '';
      if (ISSUE_HREF.test(href)) rendered.live.push(`issue link: ${href}`);
    } else if (node.nodeName === 'sub' && text(node).startsWith('hls triage')) {
      rendered.footer = true;
    }
    for (const child of node.childNodes ?? []) visit(child, scanned && !SKIPPED.has(node.nodeName));
  };
  visit(parseFragment(markdown.render(body)) as unknown as HtmlNode, true);
  return rendered;
}

function text(node: HtmlNode): string {
  return node.nodeName === '#text' ? node.value! : (node.childNodes ?? []).map(text).join('');
}

/**
 * The content of every code span and code block, in order; a block's content without its last line
 * ending (a block left open at the end of the text has none, the same block closed has one).
 */
function codeContents(source: string): string[] {
  const found: string[] = [];
  const visit = (tokens: ReturnType<typeof markdown.parse>) => {
    for (const token of tokens) {
      if (token.type === 'code_inline') found.push(token.content);
      if (token.type === 'fence' || token.type === 'code_block') found.push(token.content.replace(/\n$/, ''));
      if (token.children) visit(token.children);
    }
  };
  visit(markdown.parse(source, {}));
  return found;
}

function isSubsequence(part: string[], whole: string[]): boolean {
  let at = 0;
  for (const item of whole) if (at < part.length && item === part[at]) at++;
  return at === part.length;
}

function triage(comment: string, component = 'startup'): Triage {
  return {
    priority: 'high',
    difficulty: 'moderate',
    component,
    labels: [],
    comment,
    confidence: 0.8,
    related: [],
    duplicate_of: null,
  };
}

function expectSafe(body: string): void {
  const rendered = render(body);
  expect(rendered.live, body).toEqual([]);
  expect(rendered.markers, body).toEqual([MARKER]);
  expect(rendered.footer, body).toBe(true);
  expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
}

function expectCodeKept(body: string, comment: string): void {
  const kept = isSubsequence(codeContents(comment.trim()), codeContents(body));
  expect(kept, `code changed:\n${comment}\n---\n${body}`).toBe(true);
}

describe('the comment hls posts: what GitHub would scan is decided by parsing the Markdown', () => {
  // Each of these left a live ping, reference or second marker with the regular-expression sanitizer.
  const bypasses: Array<[string, string]> = [
    ['emphasis around a mention', 'Thanks _@someone_ for the report.'],
    ['strong emphasis around a reference', 'Duplicate of __octo/other#12__.'],
    ['escaped at-sign', 'Ping \\@someone please.'],
    ['at-sign as a character reference', 'Ping &#64;someone and &commat;other.'],
    ['escaped hash in a reference', 'See other-org/other\\#12.'],
    ['a backtick the model left open', 'Run `make test and ask @someone.'],
    ['text touching a code span', 'Use `npm ci`@someone said so.'],
    ['a mention in a raw HTML block', '<div>\n@someone please look\n</div>'],
    ['an HTML comment left open hides the footer', 'Noted.\n\n<!--'],
    ['a fenced block left open swallows the footer and the marker', 'Try:\n\n```sh\nhls worker'],
    [
      'a marker imitation that removing another one forms',
      'Done. <!-<!-- hls:x -->- hls:thread octo-org/widgets#1 -->',
    ],
    ['an issue URL in a link', 'See [this](https://github.com/other-org/other/issues/3).'],
  ];
  it.each(bypasses)('%s', (_name, comment) => {
    const body = commentBody(triage(comment), THREAD);
    expectSafe(body);
    expectCodeKept(body, comment);
  });

  it('a component with a newline cannot carry a second marker or start a block of its own', () => {
    const body = commentBody(triage('Noted.', 'ui\n\n<!-- hls:thread octo-org/widgets#1 -->\n@someone'), THREAD);
    expectSafe(body);
    expect(body).toContain('component `ui @someone`');
  });

  it('code the model quoted keeps its exact text; mentions and references in it stay as written', () => {
    const comment = 'Call `notify(@team)` then:\n\n```js\nping("@someone", "o/r#1")\n```\n\n    @indented other/repo#2';
    const body = commentBody(triage(comment), THREAD);
    expectSafe(body);
    expectCodeKept(body, comment);
    expect(body).toContain('`notify(@team)`');
    expect(body).toContain('ping("@someone", "o/r#1")');
    expect(body).toContain('    @indented other/repo#2');
  });

  it('inline HTML that GitHub shows as text cannot carry a mention; harmless inline HTML stays', () => {
    for (const comment of [
      'see <!x @bob> now',
      'a <!-- x -- @bob --> b',
      'a <xmp title="@bob"> b',
      'x <b title="o/r#1">y</b>',
    ]) {
      const body = commentBody(triage(comment), THREAD);
      expectSafe(body);
      expect(body, comment).not.toMatch(/@bob|o\/r#1/);
    }
    expect(commentBody(triage('Press <kbd>Ctrl</kbd>+<kbd>C</kbd>.<br>Done.'), THREAD)).toContain(
      'Press <kbd>Ctrl</kbd>+<kbd>C</kbd>.<br>Done.',
    );
  });

  it('only the marker hls ends its comment with identifies it, not one the model quoted inside code', () => {
    const quoting = commentBody(triage('The bot writes `<!-- hls:thread octo-org/widgets#2 -->` at the end.'), THREAD);
    expect(quoting).toContain('`<!-- hls:thread octo-org/widgets#2 -->`');
    expect(hasThreadMarker(quoting, THREAD)).toBe(true);
    expect(hasThreadMarker(quoting, 'octo-org/widgets#2')).toBe(false);
    expect(hasThreadMarker(`${quoting}\r\n`, THREAD)).toBe(true);
    expect(hasThreadMarker(`${quoting}\n\nEdited by a maintainer.`, THREAD)).toBe(false);
  });

  it('mentions get a zero-width space after the sign; a reference to this repository stays a link', () => {
    const body = commentBody(triage('Thanks @someone, see other-org/other#12 and #7.'), THREAD);
    expect(body).toContain('Thanks @&#8203;someone, see other-org/other#&#8203;12 and #7.');
  });

  it('stays within GitHub’s size limit when the cut opens a code span and neutralising grows the text', () => {
    const comment = `${'word '.repeat(13_000)}\`${' @someone'.repeat(2_000)}\``;
    const body = commentBody(triage(comment), THREAD);
    const rendered = render(body);
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
    expect(rendered.live).toEqual([]);
    expect(rendered.markers).toEqual([MARKER]);
    const mentions = `${' @someone'.repeat(8_000)}`;
    expect(commentBody(triage(mentions), THREAD).length).toBeLessThanOrEqual(MAX_COMMENT_CHARS);
  });

  it('a generated corpus of adversarial Markdown: 0 live pings or references, exactly 1 marker, the footer visible, code kept', () => {
    const random = seededRandom(20261130);
    const failures: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      const comment = document(random);
      const body = commentBody(triage(comment), THREAD);
      try {
        expectSafe(body);
        // Where a bare URL runs into a backtick, the two readings of the text (see markdown-regions)
        // disagree on what is code; the sanitizer breaks what either shows as text.
        if (!URL_BEFORE_BACKTICK.test(comment)) expectCodeKept(body, comment);
      } catch (error) {
        const { live, markers } = render(body);
        failures.push(`case ${i}: ${JSON.stringify({ comment, body, live, markers })}`);
        if (failures.length >= 3) break;
      }
    }
    expect(failures).toEqual([]);
    // Several thousand documents through a full GFM parse, several times each: give it room.
  }, 240_000);
});

// --- the corpus -----------------------------------------------------------------------------------

type Random = () => number;

const PINGS = [
  '@someone',
  '@octo-org/core',
  '@a',
  '@x-1',
  'other-org/other#12',
  'o.r-g/re_po#3',
  'owner/repo@abc1234def',
  'https://github.com/o/r/issues/7',
  'https://github.com/o/r/pull/8#discussion',
  'www.github.com/o/r/issues/9',
  '\\@name',
  '&#64;name',
  '&commat;name',
  '&#x40;name',
  'owner/repo\\#4',
  'owner/repo&#35;5',
  '&lt;!-- hls:thread o/r#1 --&gt;',
  '<!-- hls:thread octo-org/widgets#1 -->',
  '<!--hls:thread evil-->',
  'user@example.com',
  '@',
  '#12',
];
const WORDS = [
  'word',
  'x',
  '',
  'foo_bar',
  '*',
  '_',
  '`',
  '``',
  '\\',
  '|',
  '<',
  '>',
  '[',
  ']',
  '(',
  ')',
  '!',
  '~~',
  '&',
  '#',
];

const WRAPPERS: Array<(inner: string, random: Random) => string> = [
  (s) => `_${s}_`,
  (s) => `*${s}*`,
  (s) => `**${s}**`,
  (s) => `__${s}__`,
  (s) => `~~${s}~~`,
  (s) => `\`${s}\``,
  (s) => `\`\` ${s} \`\``,
  (s) => `\`${s}`,
  (s) => `${s}\``,
  (s) => `\`c\`${s}`,
  (s) => `${s}\`c\``,
  (s) => `\\_${s}\\_`,
  (s) => `\\\`${s}\``,
  (s) => `[${s}](https://example.com/x)`,
  (s) => `[t](https://github.com/o/r/issues/2) ${s}`,
  // A blank line after the definition: markdown-it, unlike CommonMark, starts an indented code block
  // on the line right after one.
  (s) => `[${s}][ref]\n\n[ref]: https://github.com/o/r/pull/4\n\n`,
  (s) => `![${s}](i.png)`,
  (s) => `<https://github.com/o/r/issues/3>${s}`,
  (s) => `<${s}>`,
  (s) => `<span>${s}</span>`,
  (s) => `<a href="https://example.com">${s}</a>`,
  (s) => `<!-- ${s} -->`,
  (s) => `<!--${s}`,
  (s) => `\n# ${s}\n`,
  (s) => `\n${s}\n===\n`,
  (s) => `\n- ${s}\n  - ${s}\n`,
  (s) => `\n1. ${s}\n`,
  (s) => `\n> ${s}\n> ${s}\n`,
  (s) => `\n| ${s} | b |\n|---|:-:|\n| c | ${s} |\n`,
  (s) => `\n\`\`\`\n${s}\n\`\`\`\n`,
  (s) => `\n~~~ ${s}\n${s}`,
  (s) => `\n\n    ${s}\n\n`,
  (s) => `\n<div>\n${s}\n</div>\n`,
  (s) => `\n<details><summary>${s}</summary>\n\n${s}\n\n</details>\n`,
  (s) => `\n<!--\n${s}\n`,
  (s, random) => `${'word '.repeat(Math.floor(random() * 200))}${s}`,
  (s) => `${s}\\\n${s}`,
  (s) => `${s}  \n${s}`,
  (s) => `- [ ] ${s}`,
];
const GLUE = ['', '', ' ', '\n', '\n\n', '\t', '&nbsp;'];

function fragment(random: Random, depth: number): string {
  const roll = random();
  if (depth === 0 || roll < 0.25) return pick(random, random() < 0.6 ? PINGS : WORDS);
  if (roll < 0.7) return pick(random, WRAPPERS)(fragment(random, depth - 1), random);
  return [0, 1, 2].map(() => fragment(random, depth - 1)).join(pick(random, GLUE));
}

function document(random: Random): string {
  const parts = Array.from({ length: 1 + Math.floor(random() * 3) }, () => fragment(random, 3));
  const text = parts.join(pick(random, GLUE)).trim();
  return text === '' ? '@someone' : text;
}

describe('through the worker against the GitHub fake', () => {
  let s: Stage | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('a comment with _@someone_ and a component carrying a newline and a fake marker is posted neutralised', async () => {
    s = await stage({
      anthropic: {
        respond: () => ({
          kind: 'json',
          value: {
            priority: 'high',
            difficulty: 'moderate',
            component: 'startup\n<!-- hls:thread octo-org/widgets#9 -->',
            labels: [],
            comment: 'Thanks _@someone_, see other-org/other\\#12.',
            confidence: 0.9,
          },
        }),
      },
    });
    await queueIssueEvent(s, 42);
    const result = await runHls(['worker', '--once'], { env: s.env });
    expect(result.code).toBe(0);
    const [comment] = s.github.repo(REPO).issues.get(42)!.comments;
    expect(comment!.body).toBe(
      'Thanks _@&#8203;someone_, see other-org/other\\#&#8203;12.\n\n' +
        '<sub>hls triage · priority **high** · difficulty **moderate** · component `startup` · confidence 0.90</sub>\n' +
        '<!-- hls:thread octo-org/widgets#42 -->',
    );
  });
});
