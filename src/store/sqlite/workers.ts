import type { Db } from './open.js';
import type { WorkerRecord, WorkerSelf } from '../types.js';
import { assertIdFree } from '../worker-state.js';
import { statement } from './statements.js';

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
    assertIdFree(holder, w.host, w.started_at);
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
