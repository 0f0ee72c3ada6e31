// A database filled by the real pipeline (hls queue, a worker, the simulators), then spread over several
// UTC days by moving rows back in time, for the report and dashboard tests.
import { expect } from 'vitest';
import { execute, runHls } from './hls.js';
import { queueIssueEvent, stage, type Stage } from './pipeline.js';

const DAY = 86_400_000;

/** What a repository name and a skip reason an attacker chose look like once stored. */
export const HOSTILE_REPOSITORY = '<img src=x onerror="window.__pwned=1">/x';
export const HOSTILE_REASON = '<script>window.__pwned=1</script> & "quoted"';
export const HOSTILE_PAUSE_REASON = 'GitHub said <b onmouseover="window.__pwned=1">slow down</b>';

/**
 * Nine events: six completed and one refused by the model (failed), spread over three days (one of a
 * repository with a hostile name), two bots' events skipped (one with a hostile skip reason); and a GitHub pause
 * for the next hour (with a hostile reason). `daysBack[i]` moves the
 * i-th event and its ledger rows that many days back. A daily budget is configured.
 */
export async function filledStage(): Promise<Stage> {
  const s = await stage({ config: { claude: { daily_budget_usd: 5 } } });
  // The first model call is refused: the first event queued (one worker slot, so in order).
  s.anthropic.enqueue({ kind: 'text', text: '', stopReason: 'refusal' });
  // One at a time: nine `hls queue` processes at once can meet a busy database (exit 75) on a loaded machine.
  const ids: number[] = [];
  for (const number of [1, 2, 3, 4, 5, 6, 7]) ids.push(await queueIssueEvent(s, number));
  ids.push(await queueIssueEvent(s, 8, { sender: { login: 'dependabot[bot]', type: 'Bot' } }));
  ids.push(await queueIssueEvent(s, 9, { sender: { login: 'renovate[bot]', type: 'Bot' } }));
  const worker = await runHls(['worker', '--once', '--concurrency', '1', '--id', 'report-worker'], { env: s.env });
  expect(worker.code, worker.stderr).toBe(0);

  execute(s.db, 'UPDATE webhook_events SET skip_reason = ? WHERE id = ?', HOSTILE_REASON, ids[8]);
  execute(s.db, 'UPDATE webhook_events SET repository = ? WHERE id = ?', HOSTILE_REPOSITORY, ids[2]);
  execute(s.db, 'UPDATE claude_analyses SET repository = ? WHERE webhook_id = ?', HOSTILE_REPOSITORY, ids[2]);
  execute(
    s.db,
    'INSERT INTO api_pauses (scope, until_at, reason, started_at, hits) VALUES (?, ?, ?, ?, 2)',
    `github:${'ab'.repeat(32)}`,
    Date.now() + 3_600_000,
    HOSTILE_PAUSE_REASON,
    Date.now(),
  );
  const daysBack = [0, 0, 0, 1, 1, 3, 3, 1, 3];
  ids.forEach((id, index) => moveBack(s.db, id, daysBack[index]! * DAY));
  return s;
}

function moveBack(db: string, id: number, ms: number): void {
  if (ms === 0) return;
  execute(
    db,
    `UPDATE webhook_events SET created_at = created_at - ?, scheduled_at = scheduled_at - ?,
            started_at = started_at - ?, completed_at = completed_at - ? WHERE id = ?`,
    ms,
    ms,
    ms,
    ms,
    id,
  );
  execute(db, 'UPDATE claude_analyses SET created_at = created_at - ? WHERE webhook_id = ?', ms, id);
}
