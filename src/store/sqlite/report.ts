import { firstDayOfWindow, utcDay } from '../status-counts.js';
import type { ReportSnapshot } from '../types.js';
import type { Db } from './open.js';
import { readStats } from './stats.js';

const DAY = (column: string) => `date(${column} / 1000, 'unixepoch')`;

/** Everything `hls report` draws, in one read transaction with the `hls stats` figures it repeats. */
export function readReport(db: Db, now: number, days: number): ReportSnapshot {
  const since = firstDayOfWindow(now, days);
  return db.transaction(() => ({
    stats: readStats(db, now, since, days),
    firstDay: utcDay(since),
    reasons: db
      .prepare(
        `SELECT ${DAY('created_at')} AS date, status,
                CASE status WHEN 'skipped' THEN coalesce(skip_reason, 'no reason recorded')
                            ELSE coalesce(error_message, error_class, 'no error recorded') END AS reason,
                count(*) AS n
           FROM webhook_events WHERE created_at >= ? AND status IN ('skipped', 'failed')
          GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      )
      .all(since) as ReportSnapshot['reasons'],
    spend: db
      .prepare(
        `SELECT ${DAY('created_at')} AS date, coalesce(model, 'unknown') AS model,
                coalesce(repository, '-') AS repository, sum(claude_cost_usd) AS cost_usd,
                count(*) FILTER (WHERE outcome <> 'not_sent') AS calls
           FROM claude_analyses WHERE created_at >= ? GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      )
      .all(since) as ReportSnapshot['spend'],
    durations: db
      .prepare(
        `SELECT ${DAY('completed_at')} AS date, completed_at - started_at AS ms FROM webhook_events
          WHERE status = 'completed' AND completed_at >= ? AND started_at IS NOT NULL ORDER BY 1, 2`,
      )
      .all(since) as ReportSnapshot['durations'],
  }))();
}
