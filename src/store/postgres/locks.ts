import type { Db } from './connect.js';

/** "hlsQ", as SQLite's application_id: the first key of every advisory lock hls takes. */
const HLS = 0x686c7351;

/** The advisory locks that serialise hls's check-then-write transactions across processes and hosts. */
export const LOCKS = {
  migration: 1,
  budget: 2,
  writeSlot: 3,
  worker: 4,
  similarIndex: 5,
} as const;

/** Holds a lock until the transaction ends; `key` narrows it (one token's write slots, one worker id). */
export async function lockForTransaction(tx: Db, lock: keyof typeof LOCKS, key?: string): Promise<void> {
  if (key === undefined) await tx`SELECT pg_advisory_xact_lock(${HLS}, ${LOCKS[lock]})`;
  else await tx`SELECT pg_advisory_xact_lock(${HLS + LOCKS[lock]}, hashtext(${key}))`;
}
