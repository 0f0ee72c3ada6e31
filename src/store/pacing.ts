import type { WritePacing } from './types.js';

/**
 * ms until one more content write fits, given the writes already sent (ascending) at `now`: the minimum
 * interval after the last write, and at most `max` writes per window.
 */
export function writeWait(sentAscending: number[], pacing: WritePacing, now: number): number {
  let earliest = now;
  const last = sentAscending.at(-1);
  if (last !== undefined) earliest = Math.max(earliest, last + pacing.minIntervalMs);
  for (const { max, ms } of pacing.windows) {
    const inWindow = sentAscending.filter((at) => at > now - ms);
    // The oldest write that must leave the window before one more fits in it.
    if (inWindow.length >= max) earliest = Math.max(earliest, inWindow[inWindow.length - max]! + ms);
  }
  return earliest - now;
}

/** Writes older than this are never looked at again. */
export function longestWindowMs(pacing: WritePacing): number {
  return Math.max(pacing.minIntervalMs, ...pacing.windows.map((w) => w.ms));
}
