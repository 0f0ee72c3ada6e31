import type { Db } from './open.js';
import { statement } from './statements.js';

export interface WorkerRecord {
  id: string;
  pid: number;
  host: string;
  started_at: number;
  heartbeat_at: number;
  lease_ms: number;
  concurrency: number;
  in_flight: number;
  processed: number;
  stopped_at: number | null;
}

/** Another process runs under the id a worker was started with. */
export class WorkerIdInUseError extends Error {}

/**
 * Records a starting worker. It takes over its row (a restarted systemd instance keeps its id) unless
 * a live worker holds it; checked and written in one IMMEDIATE transaction, so of two workers started
 * with one id at once, exactly one gets it. The other's row is left as it was.
 */
export function registerWorker(
  db: Db,
  w: Omit<WorkerRecord, 'heartbeat_at' | 'in_flight' | 'processed' | 'stopped_at'>,
): void {
  db.transaction(() => {
    const holder = statement(db, `SELECT * FROM workers WHERE id = ?`).get(w.id) as WorkerRecord | undefined;
    if (holder && workerState(holder, w.started_at) === 'live' && !exitedHere(holder, w.host)) {
      throw new WorkerIdInUseError(
        `worker id "${w.id}" is held by a live worker (pid ${holder.pid} on ${holder.host}, last heartbeat ` +
          `${new Date(holder.heartbeat_at).toISOString()}): stop it, or start this one with another --id`,
      );
    }
    statement(
      db,
      `INSERT INTO workers (id, pid, host, started_at, heartbeat_at, lease_ms, concurrency)
       VALUES (@id, @pid, @host, @started_at, @started_at, @lease_ms, @concurrency)
       ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at,
         heartbeat_at = excluded.heartbeat_at, lease_ms = excluded.lease_ms, concurrency = excluded.concurrency,
         in_flight = 0, processed = 0, stopped_at = NULL`,
    ).run(w);
  }).immediate();
}

/**
 * A worker of this host whose process is gone (killed, crashed) is not live, however fresh its
 * heartbeat: systemd restarts it under the same id within seconds, long before its lease runs out.
 */
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

/** Which process a row belongs to: a worker writes only its own row, never one another process took over. */
export type WorkerSelf = Pick<WorkerRecord, 'id' | 'pid' | 'host'>;

const OWN_ROW = `id = @id AND pid = @pid AND host = @host`;

export function workerHeartbeat(db: Db, self: WorkerSelf, now: number, inFlight: number, processed: number): void {
  statement(
    db,
    `UPDATE workers SET heartbeat_at = @now, in_flight = @inFlight, processed = @processed WHERE ${OWN_ROW}`,
  ).run({ ...self, now, inFlight, processed });
}

export function workerStopped(db: Db, self: WorkerSelf, now: number, processed: number): void {
  statement(
    db,
    `UPDATE workers SET stopped_at = @now, heartbeat_at = @now, in_flight = 0, processed = @processed WHERE ${OWN_ROW}`,
  ).run({ ...self, now, processed });
}

/** Workers not known to have stopped, most recent first; stopped ones within `keepMs` too. */
export function listWorkers(db: Db, now: number, keepMs: number): WorkerRecord[] {
  return statement(
    db,
    `SELECT * FROM workers WHERE stopped_at IS NULL OR stopped_at >= ? ORDER BY heartbeat_at DESC, id`,
  ).all(now - keepMs) as WorkerRecord[];
}

export const WORKER_STATES = ['live', 'stale', 'stopped'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/** live: heard from within its lease; stale: silent for longer (killed or hung); stopped: exited cleanly. */
export function workerState(w: WorkerRecord, now: number): WorkerState {
  if (w.stopped_at !== null) return 'stopped';
  return now - w.heartbeat_at <= w.lease_ms ? 'live' : 'stale';
}
