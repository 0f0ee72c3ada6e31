// The backend-neutral part of related-issue search: the terms hls cuts text into, the scorer, and what
// indexing a batch changes. Pure code, generated and adversarial input.
import { describe, expect, it } from 'vitest';
import { planIndexing } from '../src/similar/index-plan.js';
import { porterStem } from '../src/similar/porter.js';
import {
  MAX_QUERY_TERMS,
  MAX_SEARCH_TERMS,
  scoreThread,
  searchTerms,
  SEARCH_POSTINGS,
  weighQuery,
} from '../src/similar/score.js';
import { QUERY_CHARS, termCounts, textTerms, threadTerms } from '../src/similar/terms.js';
import { SIMILAR_BODY_CHARS, type IndexedThread } from '../src/store/types.js';
import { pick, seededRandom } from './helpers/random.js';

const TERM = /^[a-z0-9]+$/;

/** Characters that mean something to FTS5 or tsquery, or to a terminal, or that are not text at all. */
const HOSTILE = [
  ...`"'*:^&|!()<>-+{}[],.;~@#$%\\/\`=?`,
  'NEAR',
  'AND',
  'OR',
  'NOT',
  '\0',
  '\u200f',
  '\u202e',
  '\u2066',
  '\ufeff',
  '\ud800',
  '\udfff',
  '😀',
  '👩‍💻',
  '日本語',
  'ログイン',
  'كلمة',
  'пароль',
  'Ünïcödé',
  'ﬁ',
  '²',
  '٣',
  ' ',
  '\n',
  '\t',
];

function hostileText(random: () => number, length: number): string {
  let text = '';
  while (text.length < length) {
    text += random() < 0.5 ? pick(random, HOSTILE) : pick(random, ['login', 'crash', 'the', 'upload', '500', 'x']);
  }
  return text;
}

describe('terms', () => {
  it('are lowercase ASCII letters and digits whatever the text, so no query syntax can read an operator', () => {
    const random = seededRandom(12);
    for (let i = 0; i < 2000; i++) {
      for (const term of textTerms(hostileText(random, 1 + Math.floor(random() * 200)))) {
        expect(term).toMatch(TERM);
      }
    }
  });

  it('drop stopwords, single letters, hex noise and long numbers; stem English words', () => {
    expect(textTerms('The login is crashing, and it crashed: crashes!')).toEqual(['login', 'crash', 'crash', 'crash']);
    expect(textTerms('a b c I x')).toEqual([]);
    expect(textTerms('commit 3f9a8c7d1e and 0x7fff and 123456789012 but port 8080')).toEqual([
      'commit',
      'port',
      '8080',
    ]);
    expect(textTerms('Café NAÏVE résumé')).toEqual(['cafe', 'naiv', 'resum']);
  });

  it('spell other scripts in ASCII, and cut Han and kana into overlapping pairs', () => {
    const [hello, world] = textTerms('привет мир');
    expect(hello).toMatch(/^u[0-9a-z]{24}$/);
    expect(world).toMatch(/^u[0-9a-z]{12}$/);
    expect(textTerms('ログイン')).toHaveLength(3);
    expect(textTerms('ログイン失敗')).toEqual(textTerms('ログ グイ イン ン失 失敗'));
    // The same word finds itself whatever surrounds it.
    expect(textTerms('(пароль)')).toEqual(textTerms('пароль'));
  });

  it('keep words that can never be terms out: 40 letters and more', () => {
    expect(textTerms('a'.repeat(41))).toEqual([]);
    expect(textTerms('QUJD'.repeat(100))).toEqual([]);
  });

  it('Porter-stem as the reference vocabulary does', () => {
    const expected: Record<string, string> = {
      caresses: 'caress',
      ponies: 'poni',
      cats: 'cat',
      feed: 'feed',
      agreed: 'agre',
      plastered: 'plaster',
      motoring: 'motor',
      sing: 'sing',
      conflated: 'conflat',
      troubled: 'troubl',
      sized: 'size',
      hopping: 'hop',
      falling: 'fall',
      filing: 'file',
      happy: 'happi',
      relational: 'relat',
      conditional: 'condit',
      digitizer: 'digit',
      operator: 'oper',
      generalizations: 'gener',
      electrical: 'electr',
      hopefulness: 'hope',
      adjustment: 'adjust',
      adoption: 'adopt',
      controlling: 'control',
      rate: 'rate',
      connection: 'connect',
      connections: 'connect',
      connected: 'connect',
    };
    for (const [word, stem] of Object.entries(expected)) expect(porterStem(word), word).toBe(stem);
  });
});

describe('the score', () => {
  const corpus = { threads: 1000, terms: 1000 * 60 };

  it('is in [0, 1] for any query and thread, and 0 when they share nothing', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 500; i++) {
      const counts = termCounts(textTerms(hostileText(random, 300)));
      const holding = new Map([...counts.keys()].map((term) => [term, Math.floor(random() * 1500)]));
      const query = weighQuery(counts, holding, corpus);
      expect(query.length).toBeLessThanOrEqual(MAX_QUERY_TERMS);
      const thread = threadTerms(hostileText(random, 50), hostileText(random, 400));
      const score = scoreThread(query, thread, corpus);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    const query = weighQuery(termCounts(textTerms('login crash')), new Map(), corpus);
    expect(scoreThread(query, threadTerms('upload', 'timeout'), corpus)).toBe(0);
  });

  it('is 1 for the thread itself, and higher for a thread that shares the rare terms than the common ones', () => {
    const text = 'Importer crashes on large CSV upload';
    const counts = termCounts(textTerms(text));
    const holding = new Map([
      ['import', 5],
      ['crash', 400],
      ['larg', 300],
      ['csv', 3],
      ['upload', 500],
    ]);
    const query = weighQuery(counts, holding, corpus);
    expect(scoreThread(query, threadTerms(text, ''), corpus)).toBe(1);
    const rare = scoreThread(query, threadTerms('CSV importer', ''), corpus);
    const common = scoreThread(query, threadTerms('large upload crashes', ''), corpus);
    expect(rare).toBeGreaterThan(common);
  });

  it('looks for the rarest held terms, within the bound on the work of the full-text search', () => {
    const counts = new Map(Array.from({ length: 100 }, (_, i) => [`t${i}`, 1]));
    const holding = new Map(Array.from({ length: 100 }, (_, i) => [`t${i}`, i === 0 ? 0 : i * 100]));
    const terms = searchTerms(weighQuery(counts, holding, { threads: 20_000, terms: 20_000 * 50 })).map((t) => t.term);
    expect(terms).not.toContain('t0'); // no thread holds it: it can find nothing
    expect(terms.length).toBeLessThanOrEqual(MAX_SEARCH_TERMS);
    const postings = terms.reduce((sum, term) => sum + holding.get(term)!, 0);
    expect(terms.slice(0, 2)).toEqual(['t1', 't2']);
    expect(postings - holding.get(terms.at(-1)!)!).toBeLessThanOrEqual(SEARCH_POSTINGS);
  });

  it('reads at most the start of a long query', () => {
    expect(QUERY_CHARS).toBeGreaterThanOrEqual(SIMILAR_BODY_CHARS);
  });
});

describe('planning the indexing of a batch', () => {
  const thread = (number: number, title: string, updated_at: number): IndexedThread => ({
    repository: 'o/r',
    number,
    kind: 'issue',
    title,
    body: 'x'.repeat(SIMILAR_BODY_CHARS + 10),
    state: 'open',
    url: null,
    updated_at,
  });

  it('keeps the newest version of each thread and counts each term once per thread', () => {
    const indexed = new Map([[1, { number: 1, updated_at: 50, ...threadTerms('login crash', '') }]]);
    const plan = planIndexing(
      [thread(1, 'login timeout', 40), thread(2, 'crash crash', 10), thread(2, 'crash upload', 20), thread(3, 'a', 5)],
      indexed,
    );
    expect(plan.rows.map((row) => [row.number, row.title])).toEqual([
      [2, 'crash upload'],
      [3, 'a'],
    ]);
    expect(plan.rows[0]!.body).toHaveLength(SIMILAR_BODY_CHARS);
    expect(plan.termChanges).toEqual([
      ['crash', 1],
      ['upload', 1],
    ]);
    expect(plan.threadsAdded).toBe(2);

    const replaced = planIndexing([thread(1, 'login timeout', 60)], indexed);
    expect(replaced.threadsAdded).toBe(0);
    expect(replaced.termChanges).toEqual([
      ['crash', -1],
      ['timeout', 1],
    ]);
    expect(replaced.termsAdded).toBe(0);
  });
});
