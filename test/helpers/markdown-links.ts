// What a Markdown file links to and which anchors its headings get on GitHub, read with markdown-it.
import MarkdownIt from 'markdown-it';
import type { Token } from 'markdown-it';

const markdown = new MarkdownIt({ html: true });

/**
 * GitHub's anchor for a heading's text: lowercase, every character that is not a letter, mark,
 * number, `_`, `-` or space dropped, spaces turned into `-`.
 */
export function headingSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The rendered text of a heading: code spans without their backticks, no markup. */
function inlineText(inline: Token): string {
  return (inline.children ?? [])
    .filter((child) => child.type === 'text' || child.type === 'code_inline')
    .map((child) => child.content)
    .join('');
}

/** The anchors of a document's headings, in order; a repeated one gets `-1`, `-2`, … as on GitHub. */
export function headingAnchors(source: string): string[] {
  const tokens = markdown.parse(source, {});
  const seen = new Map<string, number>();
  const anchors: string[] = [];
  tokens.forEach((token, index) => {
    if (token.type !== 'heading_open') return;
    const slug = headingSlug(inlineText(tokens[index + 1]));
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.push(count === 0 ? slug : `${slug}-${count}`);
  });
  return anchors;
}

/** Every link and image destination of a document, as written (reference links resolved). */
export function linkTargets(source: string): string[] {
  const targets: string[] = [];
  const visit = (tokens: Token[]): void => {
    for (const token of tokens) {
      if (token.type === 'link_open') targets.push(String(token.attrGet('href') ?? ''));
      if (token.type === 'image') targets.push(String(token.attrGet('src') ?? ''));
      if (token.children) visit(token.children);
    }
  };
  visit(markdown.parse(source, {}));
  return targets;
}
