import type { Db } from './open.js';
import { liftedPause, waitingCondition } from '../pause-scopes.js';
import type { Pause, ResumedPause, ResumeRequest } from '../types.js';
import { activePauses } from './rate-limits.js';
import { statement } from './statements.js';

function waitingEvents(pause: Pause): string {
  return `FROM webhook_events WHERE status IN ('pending', 'retry') AND scheduled_at > @now
            AND ${waitingCondition(pause.scope)}`;
}

/**
 * Lifts the selected pauses in force: each is recorded in api_pause_history and deleted, and the events
 * it parked become due now (they keep their wait_reason). One IMMEDIATE transaction, so a pause an API
 * answer records meanwhile is either lifted too or kept whole. A dry run writes nothing.
 */
export function resumePauses(db: Db, request: ResumeRequest & { now: number }): ResumedPause[] {
  const { now } = request;
  const run = () =>
    activePauses(db, now)
      .filter(request.select)
      .map((pause): ResumedPause => {
        const waiting = statement(db, `SELECT count(*) AS n ${waitingEvents(pause)}`).get({ now }) as { n: number };
        const resumed = liftedPause(pause, request, now, waiting.n);
        if (request.dryRun) return resumed;
        statement(
          db,
          `UPDATE webhook_events SET scheduled_at = @now WHERE id IN (SELECT id ${waitingEvents(pause)})`,
        ).run({ now });
        statement(db, `DELETE FROM api_pauses WHERE scope = ?`).run(pause.scope);
        statement(
          db,
          `INSERT INTO api_pause_history (scope, reason, started_at, until_at, hits, resumed_at, resumed_by, note,
             events_resumed)
           VALUES (@scope, @reason, @started_at, @until_at, @hits, @resumed_at, @resumed_by, @note, @events_resumed)`,
        ).run(resumed);
        return resumed;
      });
  return request.dryRun ? db.transaction(run)() : db.transaction(run).immediate();
}

/** Pauses lifted by hand at or after `since`, newest first. */
export function resumedPauses(db: Db, since: number): ResumedPause[] {
  return statement(
    db,
    `SELECT scope, reason, started_at, until_at, hits, resumed_at, resumed_by, note, events_resumed
       FROM api_pause_history WHERE resumed_at >= ? ORDER BY resumed_at DESC, id DESC`,
  ).all(since) as ResumedPause[];
}
