import { createHash } from 'node:crypto';
import { SIMILAR_BODY_CHARS } from '../store/types.js';
import { porterStem } from './porter.js';
import { STOPWORDS } from './stopwords.js';

/**
 * The terms of the related-issue index, the same on both backends: hls cuts titles and bodies into
 * terms itself, and each backend indexes these terms as plain words (FTS5's unicode61, PostgreSQL's
 * `simple` configuration), so a search meets the same terms whichever database holds the index.
 *
 * A term is lowercase ASCII letters and digits only, which no full-text query syntax reads as an
 * operator: English words without stopwords, Porter-stemmed; numbers; words of other scripts spelled
 * as their code points ("u" then four base-36 digits each); Han and kana runs as overlapping pairs of
 * characters (those scripts put no space between words).
 */

/** A query reads at most this much of its text: a title and the start of a body, as the index keeps them. */
export const QUERY_CHARS = SIMILAR_BODY_CHARS + 256;

/** Longer words are noise (base64, minified code): they are not terms. */
const MAX_WORD_CHARS = 40;

const WORD = /[\p{L}\p{N}]+/gu;
const NO_SPACES_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const ASCII_WORD = /^[a-z0-9]+$/;
/** A hash, an address or an id: mixed hex of 8 or more characters is unique noise, not vocabulary. */
const HEX_NOISE = /^(?=.*\d)(?=.*[a-f])[0-9a-f]{8,}$|^0x[0-9a-f]+$/;

/** The terms of `text` in order, repeats included (a thread's term frequencies come from them). */
export function textTerms(text: string): string[] {
  const terms: string[] = [];
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
  for (const [word] of folded.matchAll(WORD)) {
    if (word.length > MAX_WORD_CHARS) continue;
    if (ASCII_WORD.test(word)) {
      const term = asciiTerm(word);
      if (term) terms.push(term);
    } else {
      for (const piece of scriptPieces(word)) terms.push(spelled(piece));
    }
  }
  return terms;
}

function asciiTerm(word: string): string | undefined {
  if (word.length < 2 || STOPWORDS.has(word) || HEX_NOISE.test(word)) return undefined;
  if (/^\d+$/.test(word)) return word.length <= 8 ? word : undefined;
  return porterStem(word);
}

/**
 * A word with characters outside ASCII, cut where its script changes: Han and kana runs become
 * overlapping pairs, any other run (Cyrillic, Arabic, Latin letters left after folding) stays whole.
 */
function scriptPieces(word: string): string[] {
  const pieces: string[] = [];
  const chars = [...word];
  let run: string[] = [];
  let runIsCjk = false;
  const flush = (): void => {
    if (run.length === 0) return;
    if (!runIsCjk) pieces.push(run.join(''));
    else if (run.length === 1) pieces.push(run[0]!);
    else for (let i = 0; i + 1 < run.length; i++) pieces.push(run[i]! + run[i + 1]!);
    run = [];
  };
  for (const char of chars) {
    const cjk = NO_SPACES_SCRIPT.test(char);
    if (cjk !== runIsCjk) flush();
    runIsCjk = cjk;
    run.push(char);
  }
  flush();
  return pieces;
}

/** An ASCII spelling of a piece: itself when ASCII, else "u" and each code point in four base-36 digits. */
function spelled(piece: string): string {
  if (ASCII_WORD.test(piece)) return piece;
  let term = 'u';
  for (const char of piece) term += char.codePointAt(0)!.toString(36).padStart(4, '0');
  return term;
}

/** Each distinct term with how many times it occurs. */
export function termCounts(terms: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

/** The terms a thread is indexed by, as stored: space-separated, title and body apart. */
export interface ThreadTerms {
  title_terms: string;
  body_terms: string;
}

export function threadTerms(title: string, body: string): ThreadTerms {
  return { title_terms: textTerms(title).join(' '), body_terms: textTerms(body).join(' ') };
}

/** The stored terms back as a list ('' is none). */
export function splitTerms(stored: string): string[] {
  return stored === '' ? [] : stored.split(' ');
}

/**
 * The word that stands for a repository in the full-text index: "r" and 15 hex digits of its name's
 * sha256. A search asks for threads holding it and a term, so other repositories' threads cost nothing.
 */
export function repositoryKey(repository: string): string {
  return `r${createHash('sha256').update(repository).digest('hex').slice(0, 15)}`;
}
