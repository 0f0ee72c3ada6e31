import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeAnthropic, type FakeAnthropic, type FakeAnthropicOptions } from '../../src/simulators/anthropic.js';
import { startFakeGitHub, type FakeGitHub, type FakeGitHubOptions } from '../../src/simulators/github.js';
import { newDatabase } from './backend.js';
import { runHls, tempDir } from './hls.js';
import { issuePayload, writeBody } from './payloads.js';
import { databaseSection } from './setup.js';

export const REPO = 'octo-org/widgets';
export const LABELS = [
  { name: 'bug', color: 'd73a4a', description: 'Something is broken' },
  { name: 'enhancement', color: 'a2eeef', description: 'New feature or request' },
  { name: 'priority: high', color: 'b60205', description: null },
  { name: 'difficulty: moderate', color: 'fbca04', description: null },
  { name: 'question', color: 'd876e3', description: 'Further information is requested' },
];

/** A plain, valid structured answer of the model. */
export const TRIAGE = {
  priority: 'low',
  difficulty: 'easy',
  component: 'docs',
  labels: [],
  comment: 'Noted.',
  confidence: 0.5,
};

export interface Stage {
  dir: string;
  db: string;
  config: string;
  env: NodeJS.ProcessEnv;
  anthropic: FakeAnthropic;
  github: FakeGitHub;
  close(): Promise<void>;
}

/**
 * Both fakes, a repository with labels and issues, and a config pointing every client at loopback,
 * with write pacing off; `config` is merged into it.
 */
export async function stage(
  options: { anthropic?: FakeAnthropicOptions; github?: FakeGitHubOptions; config?: Record<string, unknown> } = {},
): Promise<Stage> {
  const dir = tempDir('hls-pipeline-');
  const anthropic = await startFakeAnthropic(options.anthropic);
  const github = await startFakeGitHub(options.github);
  const repo = github.repo(REPO);
  repo.labels.push(...LABELS);
  const db = newDatabase(dir);
  const config = join(dir, 'settings.yaml');
  const base = {
    database: databaseSection(db),
    github: { api_url: github.url, pacing: { enabled: false } },
    claude: { base_url: anthropic.url, model: 'claude-sonnet-5-5', max_tokens: 1000 },
    repositories: [
      {
        name: REPO,
        events: ['issues', 'issue_comment', 'pull_request', 'pull_request_review', 'workflow_run', 'release'],
        labels: {
          allowed: ['bug', 'enhancement', 'question', 'wontfix'],
          priority: { high: 'priority: high' },
          difficulty: { moderate: 'difficulty: moderate' },
        },
      },
    ],
    filters: { debounce_seconds: 0 },
    queue: { poll_ms: 50, backoff_base_seconds: 0.1, backoff_max_seconds: 1, max_attempts: 3 },
    logging: { format: 'json', level: 'debug' },
  };
  writeFileSync(config, JSON.stringify(deepMerge(base, options.config ?? {})));
  return {
    dir,
    db,
    config,
    env: { HLS_CONFIG: config, ANTHROPIC_API_KEY: 'sk-ant-test', GITHUB_TOKEN: 'ghp_test' },
    anthropic,
    github,
    close: async () => {
      await Promise.all([anthropic.close(), github.close()]);
    },
  };
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = result[key];
    result[key] =
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      current &&
      typeof current === 'object' &&
      !Array.isArray(current)
        ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return result;
}

let deliveries = 0;

/** The payload's issue, opened by alice, in the GitHub simulator's `repository` (unless it is there already). */
export function seedIssue(github: FakeGitHub, repository: string, payload: Record<string, unknown>): void {
  const issue = payload.issue as { number: number; title: string; body: string };
  const issues = github.repo(repository).issues;
  if (issues.has(issue.number)) return;
  issues.set(issue.number, {
    number: issue.number,
    title: issue.title,
    body: issue.body,
    labels: [],
    user: 'alice',
    comments: [],
  });
}

/** Creates the issue in the fake and queues its `issues.<action>` delivery; returns the event id. */
export async function queueIssueEvent(
  s: Stage,
  number: number,
  extra: Record<string, unknown> = {},
  event = 'issues',
): Promise<number> {
  const payload = issuePayload(number, REPO, extra);
  seedIssue(s.github, REPO, payload);
  const delivery = `pipe-${process.pid}-${++deliveries}`;
  const file = writeBody(s.dir, `${delivery}.json`, payload);
  const result = await runHls(['queue', '--event', event, '--delivery', delivery, '--body-file', file], { env: s.env });
  const match = /^queued (\d+) /.exec(result.stdout);
  if (!match) throw new Error(`hls queue failed: ${result.code} ${result.stdout}`);
  return Number(match[1]);
}

/** Queues any payload (owner/repo filled in) as event `event`; returns the event id. */
export async function queuePayload(s: Stage, event: string, payload: Record<string, unknown>): Promise<number> {
  const delivery = `pipe-${process.pid}-${++deliveries}`;
  const body = {
    repository: { full_name: REPO, name: 'widgets', owner: { login: 'octo-org' } },
    sender: { login: 'alice', type: 'User' },
    ...payload,
  };
  const file = writeBody(s.dir, `${delivery}.json`, body);
  const result = await runHls(['queue', '--event', event, '--delivery', delivery, '--body-file', file], { env: s.env });
  const match = /^queued (\d+) /.exec(result.stdout);
  if (!match) throw new Error(`hls queue failed: ${result.code} ${result.stdout}`);
  return Number(match[1]);
}
