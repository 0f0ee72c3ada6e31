// The labelled corpus of bench/similar (bench/similar-corpus/*.json) and its background filler
// (bench/similar-filler.mjs): well formed, big enough, and its duplicate pairs really written in
// different words, so that the recall the bench prints measures the search rather than copy detection.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fillerIssues } from '../bench/similar-filler.mjs';

interface Issue {
  number: number;
  title: string;
  body: string;
  state: string;
}
interface Corpus {
  project: string;
  description: string;
  issues: Issue[];
  duplicates: [number, number][];
}

const DIR = join(import.meta.dirname, '..', 'bench', 'similar-corpus');
const corpora = readdirSync(DIR)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({ name, corpus: JSON.parse(readFileSync(join(DIR, name), 'utf8')) as Corpus }));

const words = (text: string) => text.trim().split(/\s+/).length;
const wordSet = (issue: Issue) => new Set(`${issue.title} ${issue.body}`.toLowerCase().match(/[\p{L}\p{N}]+/gu));
function jaccard(a: Set<string>, b: Set<string>): number {
  const shared = [...a].filter((word) => b.has(word)).length;
  return shared / (a.size + b.size - shared);
}

describe('the labelled corpus', () => {
  it('has at least 4 projects, 320 issues and 45 duplicate pairs in total', () => {
    expect(corpora.length).toBeGreaterThanOrEqual(4);
    expect(new Set(corpora.map(({ corpus }) => corpus.project)).size).toBe(corpora.length);
    expect(corpora.reduce((sum, { corpus }) => sum + corpus.issues.length, 0)).toBeGreaterThanOrEqual(320);
    expect(corpora.reduce((sum, { corpus }) => sum + corpus.duplicates.length, 0)).toBeGreaterThanOrEqual(45);
  });

  describe.each(corpora)('$name', ({ corpus }) => {
    const byNumber = new Map(corpus.issues.map((issue) => [issue.number, issue]));

    it('names its project and numbers its issues 1..N, each with a title, a body and a state', () => {
      expect(corpus.project).toMatch(/^[\w.-]+\/[\w.-]+$/);
      expect(corpus.description.length).toBeGreaterThan(20);
      expect(corpus.issues.map((issue) => issue.number)).toEqual(corpus.issues.map((_, index) => index + 1));
      for (const issue of corpus.issues) {
        expect(issue.title.trim().length, `#${issue.number}`).toBeGreaterThan(5);
        expect(words(issue.body), `#${issue.number}`).toBeGreaterThanOrEqual(5);
        expect(words(`${issue.title} ${issue.body}`), `#${issue.number}`).toBeLessThanOrEqual(260);
        expect(['open', 'closed']).toContain(issue.state);
      }
      expect(new Set(corpus.issues.map((issue) => issue.title)).size).toBe(corpus.issues.length);
    });

    it('pairs existing issues, the later-numbered one being the duplicate, each pair once', () => {
      for (const [original, duplicate] of corpus.duplicates) {
        expect(byNumber.has(original) && byNumber.has(duplicate), `${original}/${duplicate}`).toBe(true);
        expect(original, `${original}/${duplicate}`).toBeLessThan(duplicate);
      }
      const keys = corpus.duplicates.map((pair) => pair.join('/'));
      expect(new Set(keys).size).toBe(keys.length);
    });

    it('writes the two sides of each pair in different words (titles differ, word-set Jaccard < 0.5)', () => {
      for (const [original, duplicate] of corpus.duplicates) {
        const a = byNumber.get(original)!;
        const b = byNumber.get(duplicate)!;
        expect(b.title.toLowerCase(), `${original}/${duplicate}`).not.toBe(a.title.toLowerCase());
        expect(jaccard(wordSet(a), wordSet(b)), `${original}/${duplicate}`).toBeLessThan(0.5);
      }
    });
  });
});

describe('the filler issues', () => {
  const corpusTitles = new Set(
    corpora.flatMap(({ corpus }) => corpus.issues.map((issue) => issue.title.toLowerCase())),
  );

  it('are the same for the same seed, other ones for another seed, numbered from startNumber', () => {
    const first = fillerIssues({ seed: 42, count: 500, startNumber: 1001 });
    expect(first).toHaveLength(500);
    expect(first.map((issue) => issue.number)).toEqual(first.map((_, index) => 1001 + index));
    expect(fillerIssues({ seed: 42, count: 500, startNumber: 1001 })).toEqual(first);
    const other = fillerIssues({ seed: 43, count: 500, startNumber: 1001 });
    expect(other.filter((issue, index) => issue.body === first[index].body)).toHaveLength(0);
  });

  it('read like issues of 20 to about 200 words, each its own text, and never reuse a corpus title', () => {
    const issues = fillerIssues({ seed: 7, count: 5_000 });
    expect(issues).toHaveLength(5_000);
    const lengths = issues.map((issue) => words(`${issue.title} ${issue.body}`));
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(250);
    expect(issues.filter((issue) => !['open', 'closed'].includes(issue.state))).toEqual([]);
    expect(issues.filter((issue) => corpusTitles.has(issue.title.toLowerCase()))).toEqual([]);
    expect(new Set(issues.map((issue) => issue.body)).size).toBe(issues.length);
  });
});
