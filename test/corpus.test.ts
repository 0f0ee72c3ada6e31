// Every real payload of the handled events in @octokit/webhooks-examples, queued through `hls queue`
// and processed by one `hls worker --once` against the loopback fakes.
//
// The repositories list EVERY action the corpus has for each event, not the handlers' defaults: with
// the defaults most payloads would stop at the action filter, and the test would say little about
// how the handlers read real payload shapes (subject, relevance, diff fetch, prompt rendering, the
// sticky comment). The default action lists are covered in handlers.test.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mapConcurrently } from './helpers/concurrency.js';
import { query, runHls } from './helpers/hls.js';
import { LABELS, stage, type Stage } from './helpers/pipeline.js';

type Json = Record<string, any>;

const EVENTS = ['issues', 'issue_comment', 'pull_request', 'pull_request_review', 'workflow_run', 'release', 'ping'];
const TRIAGED = EVENTS.filter((event) => event !== 'ping');
const BOT = 'hls-bot';

const corpusFile = createRequire(import.meta.url).resolve('@octokit/webhooks-examples/api.github.com/index.json');
const corpus = JSON.parse(readFileSync(corpusFile, 'utf8')) as { name: string; examples: Json[] }[];
const payloads = corpus
  .filter((entry) => EVENTS.includes(entry.name))
  .flatMap((entry) => entry.examples.map((example, index) => ({ event: entry.name, index, example })));

const repositories = [
  ...new Set(payloads.flatMap(({ example }) => (example.repository?.full_name ? [example.repository.full_name] : []))),
] as string[];
const actionsSeen: Record<string, string[]> = {};
for (const { event, example } of payloads) {
  if (event === 'ping' || typeof example.action !== 'string') continue;
  const list = (actionsSeen[event] ??= []);
  if (!list.includes(example.action)) list.push(example.action);
}

/** The issues, pull requests and runs the handlers will read or write, as GitHub would have them. */
function seedGitHub(s: Stage): void {
  for (const name of repositories) s.github.repo(name).labels.push(...LABELS.map((label) => ({ ...label })));
  for (const { example } of payloads) {
    const name = example.repository?.full_name as string | undefined;
    if (!name) continue;
    const repo = s.github.repo(name);
    const addIssue = (item: Json, isPull: boolean) => {
      if (typeof item?.number !== 'number' || repo.issues.has(item.number)) return;
      repo.issues.set(item.number, {
        number: item.number,
        title: String(item.title ?? `#${item.number}`),
        body: typeof item.body === 'string' ? item.body : null,
        labels: Array.isArray(item.labels) ? item.labels.map((label: Json) => String(label.name)) : [],
        user: String(item.user?.login ?? 'octocat'),
        comments: [],
        pull_request: isPull,
      });
    };
    const addPull = (number: number) => {
      if (repo.pulls.has(number)) return;
      repo.pulls.set(number, {
        number,
        diff: 'diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-Hello Wolrd\n+Hello World\n',
        files: [
          {
            filename: 'README.md',
            status: 'modified',
            additions: 1,
            deletions: 1,
            changes: 2,
            patch: '@@ -1 +1 @@\n-Hello Wolrd\n+Hello World',
          },
        ],
      });
    };
    if (example.issue) addIssue(example.issue, Boolean(example.issue.pull_request));
    if (example.pull_request) {
      addIssue(example.pull_request, true);
      addPull(example.pull_request.number);
    }
    const run = example.workflow_run as Json | undefined;
    if (run) {
      for (const pull of run.pull_requests ?? []) addPull(pull.number);
      if (!repo.runs.has(run.id)) {
        repo.runs.set(run.id, {
          id: run.id,
          jobs: [
            { id: run.id * 10 + 1, name: 'lint', conclusion: 'success', log: 'lint ok' },
            {
              id: run.id * 10 + 2,
              name: 'test',
              conclusion: 'failure',
              log: 'Run npm test\nFAIL test/readme.test.js: expected "Hello World"\nError: Process completed with exit code 1.',
            },
          ],
        });
      }
    }
  }
}

let s: Stage | undefined;
afterAll(async () => {
  await s?.close();
});

describe('the @octokit/webhooks-examples corpus through queue and worker', () => {
  it(
    'analyses or skips every payload with a reason, one model call per analysis, one comment per thread',
    { timeout: 120_000 },
    async () => {
      expect(payloads.length).toBeGreaterThan(80);
      s = await stage({
        config: {
          github: { bot_login: BOT },
          filters: { debounce_seconds: 0 },
          repositories: repositories.map((name) => ({
            name,
            events: TRIAGED,
            actions: actionsSeen,
            labels: {
              allowed: ['bug', 'enhancement', 'question', 'wontfix'],
              priority: { high: 'priority: high' },
              difficulty: { moderate: 'difficulty: moderate' },
            },
          })),
        },
      });
      seedGitHub(s);
      const staged = s;

      // One `hls queue` process per example, as the relay runs it. `--db` instead of the config: no
      // webhook secret is configured, so the queue needs only the database (and starts twice as fast).
      const ids = await mapConcurrently(payloads, 8, async ({ event, index, example }) => {
        const delivery = `corpus-${event.replace(/_/g, '-')}-${index}`;
        const file = join(staged.dir, `${delivery}.json`);
        writeFileSync(file, JSON.stringify(example));
        const result = await runHls(
          ['queue', '--db', staged.db, '--event', event, '--delivery', delivery, '--body-file', file],
          { env: {} },
        );
        const match = /^queued (\d+) /.exec(result.stdout);
        if (result.code !== 0 || !match) throw new Error(`hls queue ${delivery}: ${result.code} ${result.stdout}`);
        return Number(match[1]);
      });
      expect(new Set(ids).size).toBe(payloads.length);

      const worker = await runHls(['worker', '--once', '--concurrency', '4'], { env: s.env });
      expect(worker.code, worker.stderr.slice(-2000)).toBe(0);

      const events = query<{
        id: number;
        event_type: string;
        action: string | null;
        delivery_id: string;
        thread_key: string | null;
        status: string;
        skip_reason: string | null;
        error_message: string | null;
      }>(
        s.db,
        'SELECT id, event_type, action, delivery_id, thread_key, status, skip_reason, error_message FROM webhook_events',
      );
      const analyses = query<{ webhook_id: number; outcome: string; github_actions_json: string | null }>(
        s.db,
        'SELECT webhook_id, outcome, github_actions_json FROM claude_analyses',
      );
      expect(events).toHaveLength(payloads.length);

      const unfinished = events.filter((e) => !['completed', 'skipped'].includes(e.status));
      expect(
        unfinished.map((e) => `${e.delivery_id} ${e.event_type}.${e.action}: ${e.status} ${e.error_message ?? ''}`),
      ).toEqual([]);

      const analysesOf = (id: number) => analyses.filter((a) => a.webhook_id === id);
      const completed = events.filter((e) => e.status === 'completed');
      const skipped = events.filter((e) => e.status === 'skipped');
      for (const e of completed) {
        const rows = analysesOf(e.id);
        expect(rows, `${e.delivery_id}: one analysis`).toHaveLength(1);
        expect(rows[0]!.outcome, `${e.delivery_id}: outcome`).toBe('ok');
      }
      for (const e of skipped) {
        expect(e.skip_reason?.trim(), `${e.delivery_id}: skip reason`).toBeTruthy();
        expect(analysesOf(e.id), `${e.delivery_id}: no model call when skipped`).toHaveLength(0);
      }
      const analysed = completed.filter((e) => analysesOf(e.id).length > 0);
      expect(s.anthropic.messageCalls()).toHaveLength(analysed.length);
      // The fake knew every issue, pull request and run the handlers asked about. A 404 for .github/hls.yml
      // is GitHub saying the repository has no settings file.
      const settingsFile = '/contents/.github%2Fhls.yml';
      expect(
        s.github.requests
          .filter((r) => r.status >= 400 && !(r.status === 404 && r.path.endsWith(settingsFile)))
          .map((r) => `${r.method} ${r.path} ${r.status}`),
      ).toEqual([]);

      // One sticky comment per thread: every thread hls commented on holds exactly one comment by the bot,
      // and no issue or pull request anywhere holds more than one.
      const commented = new Set<string>();
      for (const e of analysed) {
        const actions = JSON.parse(analysesOf(e.id)[0]!.github_actions_json ?? '{}') as {
          comment?: { action?: string };
        };
        if (e.thread_key && ['created', 'updated', 'unchanged'].includes(actions.comment?.action ?? '')) {
          commented.add(e.thread_key);
        }
      }
      const botComments = (threadKey: string) => {
        const [name, number] = threadKey.split('#') as [string, string];
        const issue = staged.github.repo(name).issues.get(Number(number));
        return (issue?.comments ?? []).filter((comment) => comment.user === BOT).length;
      };
      for (const threadKey of commented) expect(botComments(threadKey), threadKey).toBe(1);
      for (const name of repositories) {
        for (const issue of s.github.repo(name).issues.values()) {
          const key = `${name}#${issue.number}`;
          expect(botComments(key), key).toBe(commented.has(key) ? 1 : 0);
        }
      }
      const stored = query<{ thread_key: string }>(s.db, 'SELECT thread_key FROM thread_comments');
      expect(stored.map((row) => row.thread_key).sort()).toEqual([...commented].sort());

      const reasons = new Map<string, number>();
      for (const e of skipped) reasons.set(e.skip_reason!, (reasons.get(e.skip_reason!) ?? 0) + 1);
      const byCount = [...reasons].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      console.log(
        `corpus: ${payloads.length} payloads, ${analysed.length} analysed, ${skipped.length} skipped ` +
          `(${byCount.map(([reason, count]) => `${reason}: ${count}`).join(', ')})`,
      );
      expect(analysed.length + skipped.length).toBe(payloads.length);
    },
  );
});
