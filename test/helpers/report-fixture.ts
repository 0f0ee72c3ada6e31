// A database filled by the real pipeline (hls queue, a worker, the simulators), then spread over several
// UTC days by moving rows back in time, for the report and dashboard tests.
import { expect } from 'vitest';
import { execute, runHls } from './hls.js';
import { queueIssueEvent, stage, type Stage } from './pipeline.js';

const DAY = 86_400_000;

/** What a repository name and a skip reason an attacker chose look like once stored. */
export const HOSTILE_REPOSITORY = '<img src=x onerror="window.__pwned=1">/x';
export const HOSTILE_REASON = '<script>window.__pwned=1</script> & "quoted"';

/**
 * Nine events: six completed and one refused by the model (failed), spread over three days (one of a
 * repository with a hostile name), two bots' events skipped (one with a hostile skip reason). `daysBack[i]` moves the
 * i-th event and its ledger rows that many days back. A daily budget is configured.
 */
export async function filledStage(): Promise<{ s: Stage; ids: number[] }> {
  const s = await stage({ config: { claude: { daily_budget_usd: 5 } } });
  // The first model call is refused, whichever event the worker claims first.
  s.anthropic.enqueue({ kind: 'text', text: '', stopReason: 'refusal' });
  const ids = await Promise.all([
    ...[1, 2, 3, 4, 5, 6, 7].map((number) => queueIssueEvent(s, number)),
    queueIssueEvent(s, 8, { sender: { login: 'dependabot[bot]', type: 'Bot' } }),
    queueIssueEvent(s, 9, { sender: { login: 'renovate[bot]', type: 'Bot' } }),
  ]);
  const worker = await runHls(['worker', '--once', '--concurrency', '1', '--id', 'report-worker'], { env: s.env });
  expect(worker.code, worker.stderr).toBe(0);

  execute(s.db, 'UPDATE webhook_events SET skip_reason = ? WHERE id = ?', HOSTILE_REASON, ids[8]);
  execute(s.db, 'UPDATE webhook_events SET repository = ? WHERE id = ?', HOSTILE_REPOSITORY, ids[2]);
  execute(s.db, 'UPDATE claude_analyses SET repository = ? WHERE webhook_id = ?', HOSTILE_REPOSITORY, ids[2]);
  const daysBack = [0, 0, 0, 1, 1, 3, 3, 1, 3];
  ids.forEach((id, index) => moveBack(s.db, id, daysBack[index]! * DAY));
  return { s, ids };
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
