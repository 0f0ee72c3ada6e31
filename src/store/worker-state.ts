import type { WorkerRecord } from './types.js';
import { WorkerIdInUseError } from './errors.js';

export const WORKER_STATES = ['live', 'stale', 'stopped'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/** live: heard from within its lease; stale: silent for longer (killed or hung); stopped: exited cleanly. */
export function workerState(w: WorkerRecord, now: number): WorkerState {
  if (w.stopped_at !== null) return 'stopped';
  return now - w.heartbeat_at <= w.lease_ms ? 'live' : 'stale';
}

/**
 * Refuses to start a worker under an id a live worker holds. A worker of this host whose process is
 * gone (killed, crashed) is not live, however fresh its heartbeat: systemd restarts it under the same
 * id within seconds, long before its lease runs out.
 */
export function assertIdFree(holder: WorkerRecord | undefined, host: string, now: number): void {
  if (!holder || workerState(holder, now) !== 'live' || exitedHere(holder, host)) return;
  throw new WorkerIdInUseError(
    `worker id "${holder.id}" is held by a live worker (pid ${holder.pid} on ${holder.host}, last heartbeat ` +
      `${new Date(holder.heartbeat_at).toISOString()}): stop it, or start this one with another --id`,
  );
}

function exitedHere(w: WorkerRecord, host: string): boolean {
  if (w.host !== host) return false;
  if (w.pid === process.pid) return true; // the pid was reused: by this very process
  try {
    process.kill(w.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Stopped workers stay listed for a day. */
export const STOPPED_WORKERS_KEPT_MS = 86_400_000;
