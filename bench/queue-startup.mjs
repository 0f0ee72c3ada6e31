#!/usr/bin/env node
// Measures what `hls queue` costs per delivery over a bare Node start: each round runs `node -e 0`
// and `node bin/hls queue ...` (alternating which goes first) and times both with spawnSync.
// Usage: bench/queue-startup [--rounds N]   (default 40). A measurement, not a test: exits 0 on MISS.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const TARGET = 1.35;
const WARMUP = 3;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HLS = join(ROOT, 'bin', 'hls');

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '40' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  process.stdout.write('usage: bench/queue-startup [--rounds N]\n');
  process.exit(0);
}
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`queue-startup: --rounds must be a positive integer, got "${values.rounds}"\n`);
  process.exit(64);
}

/** A realistic issues.opened delivery of about 8 KiB, shaped like GitHub's. */
function issuesOpenedPayload() {
  const api = 'https://api.github.com';
  const user = (login, id, type = 'User') => ({
    login,
    id,
    node_id: `MDQ6VXNlcj${id}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: `${api}/users/${login}`,
    html_url: `https://github.com/${login}`,
    followers_url: `${api}/users/${login}/followers`,
    following_url: `${api}/users/${login}/following{/other_user}`,
    gists_url: `${api}/users/${login}/gists{/gist_id}`,
    starred_url: `${api}/users/${login}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/users/${login}/subscriptions`,
    organizations_url: `${api}/users/${login}/orgs`,
    repos_url: `${api}/users/${login}/repos`,
    events_url: `${api}/users/${login}/events{/privacy}`,
    received_events_url: `${api}/users/${login}/received_events`,
    type,
    user_view_type: 'public',
    site_admin: false,
  });
  const repo = `${api}/repos/octo-org/widgets`;
  const payload = {
    action: 'opened',
    issue: {
      url: `${repo}/issues/1347`,
      repository_url: repo,
      labels_url: `${repo}/issues/1347/labels{/name}`,
      comments_url: `${repo}/issues/1347/comments`,
      events_url: `${repo}/issues/1347/events`,
      html_url: 'https://github.com/octo-org/widgets/issues/1347',
      id: 2_910_554_321,
      node_id: 'I_kwDOABCDEF6tZk0x',
      number: 1347,
      title: 'Widget crashes on start when the config directory is a symlink',
      user: user('alice', 583231),
      labels: [],
      state: 'open',
      locked: false,
      assignee: null,
      assignees: [],
      milestone: null,
      comments: 0,
      created_at: '2025-03-14T09:26:53Z',
      updated_at: '2025-03-14T09:26:53Z',
      closed_at: null,
      author_association: 'CONTRIBUTOR',
      active_lock_reason: null,
      sub_issues_summary: { total: 0, completed: 0, percent_completed: 0 },
      body: '',
      reactions: {
        url: `${repo}/issues/1347/reactions`,
        total_count: 0,
        '+1': 0,
        '-1': 0,
        laugh: 0,
        hooray: 0,
        confused: 0,
        heart: 0,
        rocket: 0,
        eyes: 0,
      },
      timeline_url: `${repo}/issues/1347/timeline`,
      performed_via_github_app: null,
      state_reason: null,
    },
    repository: {
      id: 1_296_269,
      node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5',
      name: 'widgets',
      full_name: 'octo-org/widgets',
      private: false,
      owner: user('octo-org', 9919, 'Organization'),
      html_url: 'https://github.com/octo-org/widgets',
      description: 'Widgets for everyone',
      fork: false,
      url: repo,
      forks_url: `${repo}/forks`,
      keys_url: `${repo}/keys{/key_id}`,
      issues_url: `${repo}/issues{/number}`,
      pulls_url: `${repo}/pulls{/number}`,
      labels_url: `${repo}/labels{/name}`,
      created_at: '2011-01-26T19:01:12Z',
      updated_at: '2025-03-14T08:00:00Z',
      pushed_at: '2025-03-13T17:42:10Z',
      git_url: 'git://github.com/octo-org/widgets.git',
      ssh_url: 'git@github.com:octo-org/widgets.git',
      clone_url: 'https://github.com/octo-org/widgets.git',
      homepage: null,
      size: 10_422,
      stargazers_count: 812,
      watchers_count: 812,
      language: 'TypeScript',
      has_issues: true,
      has_projects: true,
      has_downloads: true,
      has_wiki: false,
      has_pages: false,
      has_discussions: true,
      forks_count: 97,
      archived: false,
      disabled: false,
      open_issues_count: 41,
      license: { key: 'mit', name: 'MIT License', spdx_id: 'MIT' },
      allow_forking: true,
      is_template: false,
      topics: ['widgets', 'cli'],
      visibility: 'public',
      forks: 97,
      open_issues: 41,
      watchers: 812,
      default_branch: 'main',
      custom_properties: {},
    },
    organization: {
      login: 'octo-org',
      id: 9919,
      node_id: 'MDEyOk9yZ2FuaXphdGlvbjk5MTk=',
      url: `${api}/orgs/octo-org`,
      description: '',
    },
    sender: user('alice', 583231),
  };
  const paragraph =
    'Steps to reproduce: symlink ~/.config/widgets to a directory on another volume and start the widget. ' +
    'Expected: it starts and reads the config. Actual: it exits with ELOOP after printing a partial banner.\n\n';
  while (Buffer.byteLength(JSON.stringify(payload)) < 8 * 1024 - paragraph.length) payload.issue.body += paragraph;
  return Buffer.from(JSON.stringify(payload));
}

const dir = mkdtempSync(join(tmpdir(), 'hls-bench-'));
const bodyFile = join(dir, 'issues-opened.json');
const body = issuesOpenedPayload();
writeFileSync(bodyFile, body);
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !key.startsWith('HLS_') && key !== 'NODE_DEBUG' && key !== 'NODE_OPTIONS',
  ),
);
env.HLS_DB = join(dir, 'bench.db');

let deliveries = 0;
function timed(args) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, result };
}
const runNode = () => timed(['-e', '0']).ms;
function runQueue() {
  deliveries += 1;
  const delivery = `bench-${process.pid}-${deliveries}`;
  const { ms, result } = timed([HLS, 'queue', '--event', 'issues', '--delivery', delivery, '--body-file', bodyFile]);
  if (result.status !== 0 || !/^queued \d+ issues\.opened octo-org\/widgets\n$/.test(result.stdout)) {
    process.stderr.write(
      `queue-startup: hls queue failed (exit ${result.status}, signal ${result.signal}): ${JSON.stringify(result.stdout)} ${result.stderr}\n`,
    );
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  }
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil(0.9 * xs.length) - 1)];
const f = (x, digits = 1) => x.toFixed(digits);

try {
  for (let i = 0; i < WARMUP; i += 1) {
    runNode();
    runQueue();
  }
  const nodeMs = [];
  const queueMs = [];
  const ratios = [];
  for (let round = 0; round < rounds; round += 1) {
    let n;
    let q;
    if (round % 2 === 0) {
      n = runNode();
      q = runQueue();
    } else {
      q = runQueue();
      n = runNode();
    }
    nodeMs.push(n);
    queueMs.push(q);
    ratios.push(q / n);
  }
  const ratioMedian = median(ratios);
  const ratioOfMedians = median(queueMs) / median(nodeMs);
  const verdict = ratioMedian <= TARGET ? 'PASS' : 'MISS';
  process.stdout.write(
    `queue-startup: rounds=${rounds} node_median_ms=${f(median(nodeMs))} queue_median_ms=${f(median(queueMs))} ` +
      `ratio_median=${f(ratioMedian, 2)} ratio_of_medians=${f(ratioOfMedians, 2)} target<=${TARGET} ${verdict}\n`,
  );
  process.stdout.write(
    `queue-startup: node_p90_ms=${f(p90(nodeMs))} queue_p90_ms=${f(p90(queueMs))} ratio_p90=${f(p90(ratios), 2)} ` +
      `payload_bytes=${body.length} node=${process.version}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
