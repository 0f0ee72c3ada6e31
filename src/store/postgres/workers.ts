import type { WorkerStore } from '../store.js';
import type { WorkerRecord, WorkerSelf } from '../types.js';
import { assertIdFree } from '../worker-state.js';
import type { Db, Sql } from './connect.js';
import { lockForTransaction } from './locks.js';

export function postgresWorkers(sql: Sql): WorkerStore {
  const ownRow = (self: WorkerSelf) => sql`id = ${self.id} AND pid = ${self.pid} AND host = ${self.host}`;
  return {
    /**
     * Takes over the row of `w.id` (a restarted systemd instance keeps its id) unless a live worker
     * holds it; checked and written under the id's advisory lock, so of two workers started with one
     * id at once, exactly one gets it. The other's row is left as it was.
     */
    async register(w) {
      await sql.begin(async (tx) => {
        await lockForTransaction(tx, 'worker', w.id);
        const [clock] = await tx<{ now: number }[]>`SELECT hls_now_ms() AS now`;
        const [holder] = await tx<WorkerRecord[]>`SELECT * FROM workers WHERE id = ${w.id}`;
        assertIdFree(holder, w.host, clock!.now);
        await tx`
          INSERT INTO workers (id, pid, host, started_at, heartbeat_at, lease_ms, concurrency)
          VALUES (${w.id}, ${w.pid}, ${w.host}, ${clock!.now}, ${clock!.now}, ${w.lease_ms}, ${w.concurrency})
          ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, started_at = excluded.started_at,
            heartbeat_at = excluded.heartbeat_at, lease_ms = excluded.lease_ms, concurrency = excluded.concurrency,
            in_flight = 0, processed = 0, stopped_at = NULL`;
      });
    },

    async heartbeat(self, inFlight, processed) {
      await sql`
        UPDATE workers SET heartbeat_at = hls_now_ms(), in_flight = ${inFlight}, processed = ${processed}
         WHERE ${ownRow(self)}`;
    },

    async stopped(self, processed) {
      await sql`
        UPDATE workers SET stopped_at = hls_now_ms(), heartbeat_at = hls_now_ms(), in_flight = 0, processed = ${processed}
         WHERE ${ownRow(self)}`;
    },
  };
}

/** Workers not known to have stopped, most recent first; stopped ones within `keepMs` of `now` too. */
export async function listWorkers(db: Db, now: number, keepMs: number): Promise<WorkerRecord[]> {
  return [
    ...(await db<WorkerRecord[]>`
      SELECT * FROM workers WHERE stopped_at IS NULL OR stopped_at >= ${now - keepMs}
       ORDER BY heartbeat_at DESC, id COLLATE "C"`),
  ];
}
