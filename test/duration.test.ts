// The duration and count parsers behind every flag: in range, or a usage error naming the range.
import { describe, expect, it } from 'vitest';
import { RANGES } from '../src/config/ranges.js';
import { ANY_DURATION, formatDuration, parseDuration, parsePositiveInt, TIMER_MAX_MS } from '../src/duration.js';
import { CliError } from '../src/exit-codes.js';

const UNITS = ['', 'ms', 's', 'm', 'h', 'd', 'w'];

/** A seeded generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function usageError(parse: () => number): CliError {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(64);
    expect((error as CliError).message).not.toContain('\n');
    return error as CliError;
  }
  throw new Error('expected a usage error');
}

describe('parseDuration', () => {
  it('returns a finite value inside the range or refuses with the range, for generated inputs', () => {
    const next = random(8);
    for (let i = 0; i < 5000; i++) {
      const digits = String(Math.floor(next() * 10 ** Math.floor(next() * 20)));
      const text = `${digits}${next() < 0.3 ? `.${Math.floor(next() * 1000)}` : ''}${UNITS[Math.floor(next() * UNITS.length)]}`;
      const range = [ANY_DURATION, RANGES.lease, RANGES.grace][i % 3]!;
      let ms: number;
      try {
        ms = parseDuration(text, 'duration', range);
      } catch (error) {
        expect((error as CliError).exitCode).toBe(64);
        expect((error as CliError).message).toContain(
          `expected ${formatDuration(range.min)} to ${formatDuration(range.max)}`,
        );
        continue;
      }
      expect(Number.isSafeInteger(ms)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(range.min);
      expect(ms).toBeLessThanOrEqual(range.max);
    }
  });

  it('refuses overflowing, negative and malformed values with one line', () => {
    for (const text of [
      '9999999999w',
      `${'9'.repeat(400)}w`,
      '1e3s',
      '-1s',
      'Infinity',
      'NaN',
      '',
      ' ',
      '0x10',
      '1.5.5s',
      '١٢s',
      '3651d',
    ]) {
      usageError(() => parseDuration(text));
    }
    expect(usageError(() => parseDuration('0', 'lease', RANGES.lease)).message).toBe(
      'invalid lease "0": expected 100ms to 1d',
    );
  });

  it('keeps every timer range below the 2^31 ms at which Node fires a timer after 1 ms', () => {
    for (const range of Object.values(RANGES)) expect(range.max).toBeLessThan(TIMER_MAX_MS);
  });

  it('formatDuration states a value that parses back to itself', () => {
    const next = random(31);
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(next() * ANY_DURATION.max);
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

describe('parsePositiveInt', () => {
  it('accepts whole numbers within its bounds only', () => {
    expect(parsePositiveInt('64', 'concurrency', { max: 64 })).toBe(64);
    expect(parsePositiveInt('0', 'pace', { min: 0 })).toBe(0);
    for (const text of ['65', '0', '-1', '1.5', '1e3', '', `${'9'.repeat(30)}`]) {
      usageError(() => parsePositiveInt(text, 'concurrency', { max: 64 }));
    }
    usageError(() => parsePositiveInt(String(2 ** 53 + 2), 'hook id'));
  });
});
