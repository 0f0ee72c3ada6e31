// The README and docs/ link to each other's pages and headings: every relative link must name a file
// that exists and, for a Markdown page, an anchor one of its headings gets on GitHub. External links
// are not fetched.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers/hls.js';
import { headingAnchors, headingSlug, linkTargets } from './helpers/markdown-links.js';

const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;

/** One line per broken relative link of the given Markdown files: `file: target: what is wrong`. */
function brokenLinks(root: string, files: string[]): string[] {
  const anchorsOf = new Map<string, string[]>();
  const anchors = (file: string): string[] => {
    if (!anchorsOf.has(file)) anchorsOf.set(file, headingAnchors(readFileSync(file, 'utf8')));
    return anchorsOf.get(file)!;
  };
  const broken: string[] = [];
  for (const file of files) {
    for (const target of linkTargets(readFileSync(file, 'utf8'))) {
      if (EXTERNAL.test(target)) continue;
      const [path, fragment] = target.split('#', 2);
      const linked = path === '' ? file : resolve(dirname(file), decodeURI(path));
      const where = `${relative(root, file)}: ${target}`;
      if (!existsSync(linked)) broken.push(`${where}: ${relative(root, linked)} does not exist`);
      else if (
        fragment !== undefined &&
        linked.endsWith('.md') &&
        !anchors(linked).includes(decodeURIComponent(fragment))
      )
        broken.push(`${where}: no heading of ${relative(root, linked)} has the anchor #${fragment}`);
    }
  }
  return broken;
}

function documentationFiles(root: string): string[] {
  const docs = join(root, 'docs');
  const pages = existsSync(docs) ? readdirSync(docs).filter((name) => name.endsWith('.md')) : [];
  return [join(root, 'README.md'), ...pages.sort().map((name) => join(docs, name))];
}

describe('heading anchors (GitHub rules)', () => {
  it.each([
    ['`hls stats [--format text|json]`', 'hls-stats---format-textjson'],
    ['`hls replay [ID|DELIVERY …] [--status S]`', 'hls-replay-iddelivery----status-s'],
    ['`hls labels sync [--repo R] [--dry-run] [--json]`', 'hls-labels-sync---repo-r---dry-run---json'],
    ['The two commands', 'the-two-commands'],
    ['What the *comment* can contain', 'what-the-comment-can-contain'],
    ['See [Which backend](database.md#which-backend)', 'see-which-backend'],
    ['`queue.poll_ms` and `github.pacing.windows`', 'queuepoll_ms-and-githubpacingwindows'],
    ['Ünïcode — dashes, 2³¹ & more!', 'ünïcode--dashes-2³¹--more'],
    ['C++ / Node.js (v20)', 'c--nodejs-v20'],
  ])('%s → #%s', (heading, anchor) => {
    expect(headingAnchors(`## ${heading}\n`)).toEqual([anchor]);
  });

  it('numbers repeated headings -1, -2 in document order, whatever their level', () => {
    expect(headingAnchors('# Setup\n\ntext\n\n## Setup\n\n### `Setup`\n\nSetup\n-----\n\n## Other\n')).toEqual([
      'setup',
      'setup-1',
      'setup-2',
      'setup-3',
      'other',
    ]);
  });

  it('takes a plain string as GitHub does', () => {
    expect(headingSlug('Exit codes')).toBe('exit-codes');
    expect(headingSlug('snake_case-and-dash')).toBe('snake_case-and-dash');
  });
});

describe('link checker', () => {
  it('reports a missing file and a missing anchor, and accepts the rest', () => {
    const root = tempDir();
    mkdirSync(join(root, 'docs'));
    writeFileSync(
      join(root, 'README.md'),
      '# Title\n\n## Two words\n\n[ok](docs/a.md#a-page) [self](#two-words) [web](https://example.com/x#y) ' +
        '[gone](docs/missing.md) [bad](docs/a.md#no-such-heading) [file](docs/a.md)\n',
    );
    writeFileSync(
      join(root, 'docs/a.md'),
      '# A page\n\n[up](../README.md#title) [bad](#a-pag)\n\n[ref]: ../nowhere.md\n\n[r][ref]\n',
    );
    expect(brokenLinks(root, documentationFiles(root))).toEqual([
      'README.md: docs/missing.md: docs/missing.md does not exist',
      'README.md: docs/a.md#no-such-heading: no heading of docs/a.md has the anchor #no-such-heading',
      'docs/a.md: #a-pag: no heading of docs/a.md has the anchor #a-pag',
      'docs/a.md: ../nowhere.md: nowhere.md does not exist',
    ]);
  });
});

describe('README.md and docs/', () => {
  it('have no broken relative link or anchor', () => {
    const files = documentationFiles(ROOT);
    expect(files.length).toBeGreaterThan(1);
    expect(brokenLinks(ROOT, files)).toEqual([]);
  });
});
