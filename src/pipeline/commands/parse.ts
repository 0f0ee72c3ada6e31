/** The commands a maintainer can give hls in a comment. */
export const COMMAND_NAMES = ['triage', 'ignore', 'resume', 'help'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export type ParsedCommand =
  | { kind: 'command'; name: CommandName; line: string }
  /** `/hls <word>` with a word that is no command: answered with a `confused` reaction. */
  | { kind: 'unknown'; word: string; line: string };

/** Only this much of a body is looked at: a command is on its first line. */
const SCAN_CHARS = 1000;
/** An unknown word is reported at most this long. */
const WORD_CHARS = 40;
const SLASH_PREFIX = '/hls';

/**
 * The command on a comment's first line, or null. The line (after blank lines and at most three
 * spaces, as Markdown allows before a paragraph) starts with `/hls <command>` or `@<bot login> <command>`,
 * the prefix followed by spaces or tabs; the command is case-insensitive and the rest of the line is
 * ignored. Anything else is no command: a tab or four spaces of indentation (a code block), a fence,
 * a code span, a quote, an invisible character before or inside the prefix, `/hlsx`, a prefix mid-line.
 *
 * `/hls` alone is `help`; `/hls <other word>` is an unknown command. `@<bot> <other words>` is not a
 * command at all: it stays the mention that asks for an analysis of the comment (filters.comment_trigger).
 */
export function parseCommand(body: string, botLogin: string | undefined): ParsedCommand | null {
  const line = firstLine(body);
  if (line === null) return null;
  const prefixes = [SLASH_PREFIX, ...(botLogin ? [...new Set([`@${botLogin}`, botMention(botLogin)])] : [])];
  const lower = line.toLowerCase();
  const prefix = prefixes.find((candidate) => lower.startsWith(candidate.toLowerCase()));
  if (!prefix) return null;
  const rest = line.slice(prefix.length);
  if (rest !== '' && rest[0] !== ' ' && rest[0] !== '\t') return null;
  const word = rest.replace(/^[ \t]+/, '').split(/[ \t]/, 1)[0]!;
  const name = COMMAND_NAMES.find((command) => command === word.toLowerCase());
  if (name) return { kind: 'command', name, line };
  if (prefix !== SLASH_PREFIX) return null;
  if (word === '') return { kind: 'command', name: 'help', line };
  return { kind: 'unknown', word: word.slice(0, WORD_CHARS), line };
}

/**
 * How people mention the bot: `@login`, and for a GitHub App (login `<slug>[bot]`) `@<slug>`, as they
 * write it — GitHub itself does not complete the `[bot]`.
 */
export function botMention(botLogin: string): string {
  return `@${botLogin.replace(/\[bot\]$/i, '')}`;
}

/** The first non-blank line without its (at most three) leading spaces; null when it is indented code. */
function firstLine(body: string): string | null {
  const head = body.slice(0, SCAN_CHARS);
  const match = /^(?:[ \t]*(?:\r\n|\r|\n))*( {0,3})([^\r\n]*)/.exec(head);
  const line = match?.[2] ?? '';
  if (line === '' || line[0] === ' ' || line[0] === '\t') return null;
  return line.trimEnd();
}
