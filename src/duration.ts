import { CliError, EXIT } from './exit-codes.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses "90s", "15m", "24h", "7d", "1w" (or a bare number of seconds) into milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!match) {
    throw new CliError(`invalid ${what} "${text}": use a number with a unit, e.g. 90s, 15m, 24h, 7d`, EXIT.USAGE);
  }
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 's']!);
}

export function parsePositiveInt(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new CliError(`invalid ${what} "${text}": expected a whole number of at least 1`, EXIT.USAGE);
  }
  return Number(text);
}
