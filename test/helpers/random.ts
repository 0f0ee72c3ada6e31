/** A seeded pseudo-random generator (mulberry32): generated test inputs are the same on every run. */
export { seededRandom } from '../../bench/seeded-random.mjs';

/** One of `items`, chosen by `random`. */
export const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
