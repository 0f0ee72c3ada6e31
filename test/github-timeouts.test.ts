// A GitHub that takes connections but never answers, or refuses them: requests give up after
// github.timeout_seconds, and the event goes back to the queue as a network or timeout retry.
import { afterEach, describe, expect, it } from 'vitest';
import { closedPortUrl, startSilentServer, type SilentServer } from './helpers/silent.js';
import { eventRow, runHls } from './helpers/hls.js';
import { queueIssueEvent, stage, type Stage } from './helpers/pipeline.js';

let s: Stage | undefined;
let silent: SilentServer | undefined;
afterEach(async () => {
  await s?.close();
  await silent?.close();
  s = silent = undefined;
});

/** A pipeline whose GitHub is at `apiUrl`, and whose retries wait an hour (so `--once` sees one attempt). */
async function stageWithGitHubAt(apiUrl: string): Promise<Stage> {
  return stage({
    config: {
      github: { api_url: apiUrl, timeout_seconds: 1 },
      queue: { max_attempts: 5, backoff_base_seconds: 3600, backoff_max_seconds: 3600 },
    },
  });
}

describe('GitHub requests have a timeout and a network error class', () => {
  it('a GitHub that never answers: the attempt gives up after github.timeout_seconds and retries as a timeout', async () => {
    silent = await startSilentServer();
    s = await stageWithGitHubAt(silent.url);
    const id = await queueIssueEvent(s, 41);
    const worker = await runHls(['worker', '--once'], { env: s.env });
    expect(worker.code).toBe(0);
    const row = eventRow(s.db, id);
    expect(row).toMatchObject({ status: 'retry', attempts: 1, error_class: 'transient:timeout' });
    expect(row.error_message).toMatch(/no answer within 1 s \(github\.timeout_seconds\)/);
    expect(silent.connections).toBeGreaterThan(0);
    expect(s.anthropic.requests).toEqual([]);
  });

  it('connection refused is a network error, not http_500', async () => {
    s = await stageWithGitHubAt(await closedPortUrl());
    const id = await queueIssueEvent(s, 42);
    expect((await runHls(['worker', '--once'], { env: s.env })).code).toBe(0);
    const shown = await runHls(['show', String(id), '--json'], { env: s.env });
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'retry', error_class: 'transient:network' });
  });

  it('hls render against a GitHub that never answers: one line, 69', async () => {
    silent = await startSilentServer();
    s = await stageWithGitHubAt(silent.url);
    const id = await queueIssueEvent(s, 43);
    const result = await runHls(['render', String(id)], { env: s.env });
    expect(result.code).toBe(69);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^error: render: cannot reach GitHub: no answer within 1 s \(github\.timeout_seconds\)\n$/,
    );
  });
});
