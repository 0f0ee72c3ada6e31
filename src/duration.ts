import { CliError, EXIT } from './exit-codes.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** An inclusive range of milliseconds. */
export interface MsRange {
  min: number;
  max: number;
}

/** Look-back windows and retention periods: up to ten years. */
export const ANY_DURATION: MsRange = { min: 0, max: 3650 * UNIT_MS.d! };

/**
 * Node runs a timer of 2^31 ms or more (about 24.8 days) after 1 ms, silently: every value that becomes
 * a timer stays below that, and in practice well below it.
 */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/** Parses "90s", "15m", "24h", "7d", "1w" (or a bare number of seconds) into milliseconds within `range`. */
export function parseDuration(text: string, what = 'duration', range: MsRange = ANY_DURATION): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!match) {
    throw new CliError(`invalid ${what} "${text}": use a number with a unit, e.g. 90s, 15m, 24h, 7d`, EXIT.USAGE);
  }
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 's']!);
  if (!(ms >= range.min && ms <= range.max)) {
    throw new CliError(
      `invalid ${what} "${text}": expected ${formatDuration(range.min)} to ${formatDuration(range.max)}`,
      EXIT.USAGE,
    );
  }
  return ms;
}

/** A whole number from `min` (default 1) to `max` (default the largest exact integer). */
export function parsePositiveInt(
  text: string,
  what: string,
  { min = 1, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new CliError(`invalid ${what} "${text}": expected a whole number from ${min} to ${max}`, EXIT.USAGE);
  }
  return value;
}

/** The largest unit that states `ms` exactly: 86400000 → "1d", 1500 → "1500ms". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const unit = ['w', 'd', 'h', 'm', 's', 'ms'].find((u) => ms % UNIT_MS[u]! === 0) ?? 'ms';
  return `${ms / UNIT_MS[unit]!}${unit}`;
}
