import { describe, expect, it } from 'vitest';
import { botMention, parseCommand } from '../src/pipeline/commands/parse.js';

const BOT = 'hls-bot';
const name = (body: string) => {
  const parsed = parseCommand(body, BOT);
  return parsed === null ? null : parsed.kind === 'command' ? parsed.name : `unknown:${parsed.word}`;
};

describe('parseCommand: what a comment’s first line commands', () => {
  it.each([
    ['/hls triage', 'triage'],
    ['/hls ignore', 'ignore'],
    ['/hls resume', 'resume'],
    ['/hls help', 'help'],
    ['/hls', 'help'],
    ['/HLS TRIAGE', 'triage'],
    ['/hls Triage please, the new logs are in', 'triage'],
    ['/hls\ttriage', 'triage'],
    ['/hls   ignore   ', 'ignore'],
    ['   /hls triage', 'triage'],
    ['\n\n  \n/hls triage', 'triage'],
    ['/hls triage\r\nmore text on the next line', 'triage'],
    ['/hls ignore\rclassic Mac line end', 'ignore'],
    ['@hls-bot triage', 'triage'],
    ['@HLS-Bot help', 'help'],
    ['/hls frobnicate', 'unknown:frobnicate'],
    ['/hls triage-now', 'unknown:triage-now'],
    ['/hls tri\u200bage', 'unknown:tri\u200bage'],
  ])('%j → %s', (body, expected) => {
    expect(name(body)).toBe(expected);
  });

  it.each([
    ['a command later in the text', 'Thanks!\n/hls triage'],
    ['/hls mid-line', 'please run /hls triage'],
    ['/hlsx', '/hlsx triage'],
    ['/hls glued to the word', '/hlstriage'],
    ['a zero-width space after the prefix', '/hls\u200btriage'],
    ['a zero-width space inside the prefix', '/h\u200bls triage'],
    ['a zero-width space before the prefix', '\u200b/hls triage'],
    ['a BOM before the prefix', '\ufeff/hls triage'],
    ['a no-break space as the separator', '/hls\u00a0triage'],
    ['four spaces: an indented code block', '    /hls triage'],
    ['a tab: an indented code block', '\t/hls triage'],
    ['a fenced code block', '```\n/hls triage\n```'],
    ['a tilde fence', '~~~\n/hls ignore\n~~~'],
    ['a code span', '`/hls triage`'],
    ['a quote', '> /hls triage'],
    ['an HTML comment', '<!-- /hls triage -->'],
    ['a link', '[/hls triage](https://example.com)'],
    ['the mention with other words (the analysis trigger instead)', '@hls-bot please look at this'],
    ['the mention alone', '@hls-bot'],
    ['another bot’s mention', '@other-bot triage'],
    ['a longer login that starts with the bot’s', '@hls-bot-staging triage'],
    ['the mention followed by punctuation', '@hls-bot, triage'],
    ['an empty body', ''],
    ['blank lines only', '\n \r\n\t\n'],
  ])('no command: %s', (_what, body) => {
    expect(parseCommand(body, BOT)).toBeNull();
  });

  it('without a bot login only /hls is a prefix', () => {
    expect(parseCommand('@hls-bot triage', undefined)).toBeNull();
    expect(parseCommand('/hls triage', undefined)).toMatchObject({ kind: 'command', name: 'triage' });
  });

  it('reads only the start of a huge body, and reports at most 40 characters of an unknown word', () => {
    const huge = `/hls ignore\n${'x'.repeat(5_000_000)}`;
    expect(parseCommand(huge, BOT)).toMatchObject({ kind: 'command', name: 'ignore' });
    expect(parseCommand(`${'\n'.repeat(2_000_000)}/hls triage`, BOT)).toBeNull();
    const long = parseCommand(`/hls ${'y'.repeat(100_000)}`, BOT);
    expect(long).toMatchObject({ kind: 'unknown', word: 'y'.repeat(40) });
  });
});

describe('a GitHub App is mentioned by its slug', () => {
  const app = 'hls-triage[bot]';

  it('takes @slug and @slug[bot] as the prefix, and nothing that only starts like them', () => {
    expect(botMention(app)).toBe('@hls-triage');
    expect(botMention('hls-bot')).toBe('@hls-bot');
    expect(parseCommand('@hls-triage triage', app)).toMatchObject({ kind: 'command', name: 'triage' });
    expect(parseCommand('@HLS-Triage[bot] ignore', app)).toMatchObject({ kind: 'command', name: 'ignore' });
    expect(parseCommand('@hls-triage[bot]x triage', app)).toBeNull();
    expect(parseCommand('@hls-triage-dev triage', app)).toBeNull();
    expect(parseCommand('@hls-triage[bo triage', app)).toBeNull();
  });
});
