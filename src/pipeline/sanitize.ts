import { markdownRegions, type Piece, type Regions } from './markdown-regions.js';

/** GitHub rejects comment bodies above this many characters (422). */
export const MAX_COMMENT_CHARS = 65_536;

const MARKER_PREFIX = '<!-- hls:thread ';

/** The hidden line that identifies hls's one comment on a thread. */
export function threadMarker(threadKey: string): string {
  return `${MARKER_PREFIX}${threadKey} -->`;
}

/**
 * Whether a comment is hls's one comment on the thread: hls ends it with the marker, so only its last
 * line counts (a marker the model quoted inside code stays visible text and identifies nothing).
 */
export function hasThreadMarker(body: string, threadKey: string): boolean {
  return body.trimEnd().endsWith(threadMarker(threadKey));
}

/**
 * A zero-width space, written as Renovate writes it: invisible, but the `@` or `#` before it is no
 * longer followed by a name or a number, so GitHub neither notifies nor links.
 */
const BREAK = '&#8203;';

// Each pattern ends where the zero-width space goes.
/** Every `@` before a name (users, @org/team, owner/repo@sha), whatever precedes it. */
const MENTION = /@(?=[A-Za-z0-9])/g;
/** owner/repo#12 (a `#` glued to a name); a lone #12 is this repository's own issue and stays a link. */
const CROSS_REFERENCE = /[\w.-]#(?=\d)/g;
/** github.com URLs of issues, pull requests and discussions: GitHub shows them as references. */
const ISSUE_URL = /github(?=\.com\/[^\s/]+\/[^\s/]+\/(?:issues|pulls?|discussions)\/\d)/gi;

const TEXT_BREAKS = [MENTION, CROSS_REFERENCE, ISSUE_URL];

/** An imitation of hls's hidden marker written as text: up to its end or the end of the line. */
const MARKER_TEXT = /<!--\s*hls:[^\n]*?(?:-->|$)/gim;
const MARKER_COMMENT = /^<!--[\s\S]*hls:/i;

/** A bound, not an expectation: no edit leaves text that the same rule would edit again. */
const MAX_PASSES = 8;

interface Edit {
  start: number;
  end: number;
  text: string;
}

/**
 * Makes model-written Markdown safe to post: nothing in it can notify anyone, reference another
 * repository's issues or pass for hls's hidden marker. What GitHub would scan is decided by parsing
 * the text as GitHub Flavored Markdown, in both readings of bare URLs: text outside code gets a
 * zero-width space after each `@` and cross-repository `#`, raw HTML blocks are shown as text (GitHub
 * would render the text inside them), and marker imitations are removed. The text is parsed again
 * after each round of edits until none is needed. Code the model quoted keeps its exact content, and
 * a fenced block left open is closed so that what hls appends after it stays outside it.
 */
export function neutralizeMarkdown(text: string): string {
  let source = text;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const regions = markdownRegions(source);
    const edits = neutralizingEdits(regions);
    edits.push(...textBreaksOutside(edits, markdownRegions(source, 'text')));
    if (edits.length === 0) {
      if (!regions.openFence) return source;
      return `${source}${source.endsWith('\n') ? '' : '\n'}${regions.openFence}`;
    }
    source = applyEdits(source, edits);
  }
  throw new Error(`the comment could not be made safe to post in ${MAX_PASSES} passes`);
}

/** Neutralized model text that leaves `reserve` characters for what follows it within GitHub's limit. */
export function sanitizeModelText(text: string, reserve: number): string {
  const room = MAX_COMMENT_CHARS - reserve;
  const whole = neutralizeMarkdown(text);
  let safe = whole;
  // Cutting can open what was closed (a code span loses its closing backtick): neutralize again, and
  // cut more while the insertions that causes make it too long.
  for (let keep = room - 1; safe.length > room; keep -= safe.length - room) {
    safe = neutralizeMarkdown(`${cut(whole, keep)}…`);
  }
  return safe;
}

/**
 * A model-written field shown inside one line of the comment (the component): line breaks and
 * control characters become spaces, so it cannot start a block of its own, and marker imitations go.
 */
export function singleLineField(text: string): string {
  return text
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(MARKER_TEXT, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function neutralizingEdits(regions: Regions): Edit[] {
  const edits: Edit[] = [];
  for (const run of regions.texts) {
    const removals = matches(run, MARKER_TEXT).map(([from, to]) => removal(run, from, to));
    // A run that loses a marker imitation is looked at again, parsed anew, in the next pass.
    edits.push(...(removals.length > 0 ? removals : breaksAfter(run, TEXT_BREAKS)));
  }
  for (const destination of regions.destinations) edits.push(...breaksAfter(destination, [ISSUE_URL]));
  for (const autolink of regions.autolinks) {
    // Nothing is decoded between < and >: the same link written as [text](<destination>), which is.
    if (matches([autolink], ISSUE_URL).length === 0) continue;
    const destination = autolink.value.replace(ISSUE_URL, `$&${BREAK}`);
    edits.push({ start: autolink.start, end: autolink.end, text: `[${escaped(autolink.value)}](<${destination}>)` });
  }
  for (const lines of regions.htmlBlocks) {
    // Shown as text, the block would become a paragraph and take in the lines after it (an indented
    // code block among them): a blank line keeps them apart.
    lines.forEach((line, index) => {
      const end = index === lines.length - 1 ? '\n' : '';
      edits.push({ start: line.start, end: line.end, text: escaped(line.value) + end });
    });
  }
  for (const html of regions.htmlInline) {
    if (MARKER_COMMENT.test(html.value)) edits.push({ start: html.start, end: html.end, text: BREAK });
    // GitHub's parser (older CommonMark rules) and its tag filter show some of what micromark reads as
    // inline HTML as text (`<!x @name>`, `<!-- a -- @name -->`, `<xmp title="@name">`): inline HTML
    // that could carry a mention or reference is shown as text, and the next pass breaks what is in it.
    else if (/[@#]/.test(html.value)) edits.push({ start: html.start, end: html.end, text: escaped(html.value) });
  }
  return edits;
}

/**
 * The zero-width spaces the other reading of bare URLs calls for (what it shows as text the first
 * reading may show as code), where the first reading's edits leave room for them.
 */
function textBreaksOutside(edits: Edit[], regions: Regions): Edit[] {
  const taken = new Set(edits.filter((edit) => edit.start === edit.end).map((edit) => edit.start));
  const replaced = edits.filter((edit) => edit.start < edit.end);
  const added: Edit[] = [];
  for (const edit of regions.texts.flatMap((run) => breaksAfter(run, TEXT_BREAKS))) {
    if (taken.has(edit.start) || replaced.some((other) => other.start < edit.start && edit.start < other.end)) continue;
    taken.add(edit.start);
    added.push(edit);
  }
  return added;
}

/** [from, to) of each match of `pattern` in the run's text. */
function matches(run: Piece[], pattern: RegExp): Array<[number, number]> {
  const text = run.map((piece) => piece.value).join('');
  return [...text.matchAll(pattern)].map((match) => [match.index, match.index + match[0].length]);
}

function breaksAfter(run: Piece[], patterns: RegExp[]): Edit[] {
  return patterns.flatMap((pattern) =>
    matches(run, pattern).map(([, to]) => {
      const at = sourceEnd(run, to - 1);
      return { start: at, end: at, text: BREAK };
    }),
  );
}

/** A removed imitation leaves a zero-width space, so that what was on both sides of it stays apart. */
function removal(run: Piece[], from: number, to: number): Edit {
  return { start: sourceStart(run, from), end: sourceEnd(run, to - 1), text: BREAK };
}

/** Where the character at `index` of the run's text starts in the source. */
function sourceStart(run: Piece[], index: number): number {
  const [piece, offset] = locate(run, index);
  return verbatim(piece) ? piece.start + offset : piece.start;
}

/** Where the character at `index` of the run's text ends in the source. */
function sourceEnd(run: Piece[], index: number): number {
  const [piece, offset] = locate(run, index);
  return verbatim(piece) ? piece.start + offset + 1 : piece.end;
}

function locate(run: Piece[], index: number): [Piece, number] {
  let offset = index;
  for (const piece of run) {
    if (offset < piece.value.length) return [piece, offset];
    offset -= piece.value.length;
  }
  throw new RangeError(`index ${index} is past the end of the text`);
}

/** Plain text is written as it shows; an escape or a character reference is longer than what it shows. */
function verbatim(piece: Piece): boolean {
  return piece.end - piece.start === piece.value.length;
}

/** Every ASCII punctuation character backslash-escaped: shows as written, as text. */
function escaped(text: string): string {
  return text.replace(/[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/g, '\\$&');
}

function applyEdits(source: string, edits: Edit[]): string {
  const parts: string[] = [];
  let at = 0;
  for (const edit of [...edits].sort((a, b) => a.start - b.start || a.end - b.end)) {
    parts.push(source.slice(at, edit.start), edit.text);
    at = edit.end;
  }
  parts.push(source.slice(at));
  return parts.join('');
}

/** The first `length` UTF-16 units of `text`, without splitting a surrogate pair. */
function cut(text: string, length: number): string {
  const end = Math.max(0, length);
  const last = text.charCodeAt(end - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? end - 1 : end);
}
