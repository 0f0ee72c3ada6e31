// Terminal output of the demo: headings, indented blocks, and GitHub Markdown shown readably.
// Colours only on a terminal, and never with NO_COLOR set (https://no-color.org).

const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
const style = (code) => (text) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
export const bold = style('1');
export const dim = style('2');
export const cyan = style('36');
export const yellow = style('33');
const underline = style('4');

export function heading(title) {
  console.log(`\n${bold(`== ${title}`)}`);
}

export function say(text = '') {
  console.log(text);
}

/** Every line of `text` indented by `prefix`. */
export function indent(text, prefix = '   ') {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

const HIDDEN_MARKER = /<!--\s*(hls:[^>]*?)\s*-->/g;

/**
 * A comment body as GitHub would show it, for a terminal: headings underlined, emphasis in bold, code
 * in colour (kept in backticks without colour), list bullets, HTML comments hidden (the hls marker is named in a dim line), zero-width
 * spaces the sanitizer inserted after `@` removed from view.
 */
export function renderMarkdown(markdown) {
  const markers = [...markdown.matchAll(HIDDEN_MARKER)].map((match) => match[1]);
  const lines = [];
  let inFence = false;
  for (const raw of markdown
    .replace(HIDDEN_MARKER, '')
    .replace(/&#8203;|\u200b/g, '')
    .split('\n')) {
    if (/^\s*(```|~~~)/.test(raw)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) {
      lines.push(cyan(`  ${raw}`));
      continue;
    }
    const headingMatch = /^#{1,6}\s+(.*)$/.exec(raw);
    if (headingMatch) {
      lines.push(bold(underline(inline(headingMatch[1]))));
      continue;
    }
    const item = /^(\s*)[-*+]\s+(.*)$/.exec(raw);
    lines.push(item ? `${item[1]}  • ${inline(item[2])}` : inline(raw));
  }
  while (lines.at(-1) === '') lines.pop();
  for (const marker of markers) lines.push(dim(`(hidden marker: <!-- ${marker} -->)`));
  return lines.join('\n');
}

function inline(text) {
  return text
    .replace(/<sub>(.*?)<\/sub>/g, (_, inner) => dim(inner))
    .replace(/\*\*(.+?)\*\*/g, (_, inner) => bold(inner))
    .replace(/`([^`]+)`/g, (span, inner) => (colour ? cyan(inner) : span));
}
