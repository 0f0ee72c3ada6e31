import { parse, postprocess, preprocess } from 'micromark';
import { gfm } from 'micromark-extension-gfm';
import { gfmFootnote } from 'micromark-extension-gfm-footnote';
import { gfmStrikethrough } from 'micromark-extension-gfm-strikethrough';
import { gfmTable } from 'micromark-extension-gfm-table';
import { gfmTaskListItem } from 'micromark-extension-gfm-task-list-item';
import { decodeString } from 'micromark-util-decode-string';
import type { Event, Token } from 'micromark-util-types';

/** Source characters [start, end) that GitHub shows as `value` (an escape or a character reference decoded). */
export interface Piece {
  start: number;
  end: number;
  value: string;
}

/** The parts of a Markdown document, by source position, that GitHub scans or passes through as HTML. */
export interface Regions {
  /** Runs of text GitHub renders outside code; a run ends where an element starts or ends. */
  texts: Piece[][];
  /** Link, image and definition destinations (URLs GitHub turns into hrefs). */
  destinations: Piece[][];
  /** `<scheme:…>` and `<mail@host>` autolinks, the whole token; value = what is between the brackets. */
  autolinks: Piece[];
  /** Raw HTML blocks, line by line (GitHub renders what they contain: text in them is scanned). */
  htmlBlocks: Piece[][];
  /** Inline HTML: one tag, comment, declaration or CDATA section each. */
  htmlInline: Piece[];
  /** The fence that closes a fenced code block left open at the end, outside any container; else null. */
  openFence: string | null;
}

// Rendered as code, or not rendered: GitHub neither notifies nor links anything written inside them.
// (Link text is scanned all the same: renderers disagree on what a link may contain.)
const OPAQUE = new Set([
  'codeText',
  'codeFenced',
  'codeIndented',
  'definition',
  'gfmFootnoteCall',
  'gfmFootnoteDefinitionLabel',
]);
const CONTAINERS = new Set(['blockQuote', 'listOrdered', 'listUnordered', 'gfmFootnoteDefinition']);
const DESTINATIONS = new Set(['resourceDestinationString', 'definitionDestinationString']);

/**
 * Parses `source` as GitHub Flavored Markdown (CommonMark + GFM) and locates its regions. Renderers
 * disagree on where a bare URL ends (GFM's own parsers run it on over a backtick, which can open or
 * close a code span; others end it first): `bareUrls: 'text'` reads the text as the latter do.
 */
export function markdownRegions(source: string, bareUrls: 'links' | 'text' = 'links'): Regions {
  const extensions =
    bareUrls === 'links' ? [gfm()] : [gfmFootnote(), gfmStrikethrough(), gfmTable(), gfmTaskListItem()];
  const events = postprocess(
    parse({ extensions })
      .document()
      .write(preprocess()(source, undefined, true)),
  );
  const regions: Regions = {
    texts: [],
    destinations: [],
    autolinks: [],
    htmlBlocks: [],
    htmlInline: [],
    openFence: null,
  };
  const slice = (token: Token) => source.slice(token.start.offset, token.end.offset);
  let run: Piece[] = [];
  const endRun = () => {
    if (run.length > 0) regions.texts.push(run);
    run = [];
  };
  let containers = 0;
  for (let i = 0; i < events.length; i++) {
    const [kind, token] = events[i]!;
    if (CONTAINERS.has(token.type)) containers += kind === 'enter' ? 1 : -1;
    if (kind === 'exit') {
      endRun();
      continue;
    }
    if ((token.type as string) === 'literalAutolink') {
      run.push(...literalPieces(token, slice(token)));
      i = exitIndex(events, i);
      continue;
    }
    const text = textPiece(token, slice(token));
    // A line ending continues a run (a soft break inside a paragraph); alone it is between blocks.
    if (text && (token.type !== 'lineEnding' || run.length > 0)) {
      run.push(text);
      i = exitIndex(events, i);
      continue;
    }
    endRun();
    if (DESTINATIONS.has(token.type)) {
      const exit = exitIndex(events, i);
      regions.destinations.push(...destinations(events.slice(i, exit + 1), slice));
      i = exit;
    } else if (OPAQUE.has(token.type)) {
      const exit = exitIndex(events, i);
      regions.destinations.push(...destinations(events.slice(i, exit), slice));
      if (token.type === 'codeFenced' && containers === 0)
        regions.openFence ??= unclosedFence(events.slice(i, exit), slice);
      i = exit;
    } else if (token.type === 'autolink') {
      regions.autolinks.push(piece(token, slice(token).slice(1, -1)));
      i = exitIndex(events, i);
    } else if (token.type === 'htmlFlow') {
      const exit = exitIndex(events, i);
      const lines = events.slice(i, exit).filter(([k, t]) => k === 'enter' && t.type === 'htmlFlowData');
      regions.htmlBlocks.push(lines.map(([, line]) => piece(line, slice(line))));
      i = exit;
    } else if (token.type === 'htmlText') {
      regions.htmlInline.push(piece(token, slice(token)));
      i = exitIndex(events, i);
    }
  }
  endRun();
  return regions;
}

function textPiece(token: Token, raw: string): Piece | undefined {
  if (token.type === 'data') return piece(token, raw);
  if (token.type === 'characterEscape' || token.type === 'characterReference') return piece(token, decodeString(raw));
  if (token.type === 'lineEnding') return piece(token, '\n');
  return undefined;
}

// Escapes and character references, as CommonMark recognises them in text.
const ESCAPE_OR_REFERENCE =
  /\\[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]|&(?:#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[A-Za-z][A-Za-z0-9]{0,31});/g;

/**
 * A bare URL GitHub may or may not turn into a link (renderers disagree on where one ends): the
 * parser keeps it as written, so its escapes and references are decoded here, piece by piece.
 */
function literalPieces(token: Token, raw: string): Piece[] {
  const pieces: Piece[] = [];
  const at = token.start.offset;
  let last = 0;
  for (const match of raw.matchAll(ESCAPE_OR_REFERENCE)) {
    if (match.index > last)
      pieces.push({ start: at + last, end: at + match.index, value: raw.slice(last, match.index) });
    const end = match.index + match[0].length;
    pieces.push({ start: at + match.index, end: at + end, value: decodeString(match[0]) });
    last = end;
  }
  if (last < raw.length) pieces.push({ start: at + last, end: at + raw.length, value: raw.slice(last) });
  return pieces;
}

function piece(token: Token, value: string): Piece {
  return { start: token.start.offset, end: token.end.offset, value };
}

function exitIndex(events: Event[], enter: number): number {
  const token = events[enter]![1];
  let i = enter + 1;
  while (events[i]![1] !== token) i++;
  return i;
}

function destinations(events: Event[], slice: (token: Token) => string): Piece[][] {
  const found: Piece[][] = [];
  for (let i = 0; i < events.length; i++) {
    const [kind, token] = events[i]!;
    if (kind !== 'enter' || !DESTINATIONS.has(token.type)) continue;
    const exit = exitIndex(events, i);
    const pieces: Piece[] = [];
    for (const [innerKind, inner] of events.slice(i + 1, exit)) {
      const text = innerKind === 'enter' ? textPiece(inner, slice(inner)) : undefined;
      if (text) pieces.push(text);
    }
    found.push(pieces);
    i = exit;
  }
  return found;
}

/** A fenced block has one fence token when nothing closed it; the closing one repeats its sequence. */
function unclosedFence(events: Event[], slice: (token: Token) => string): string | null {
  const sequences = events.filter(([kind, token]) => kind === 'enter' && token.type === 'codeFencedFenceSequence');
  return sequences.length === 1 ? slice(sequences[0]![1]) : null;
}
