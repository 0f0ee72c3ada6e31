#!/usr/bin/env node
// Measures what `hls queue` costs per delivery over a bare Node start, on SQLite and on PostgreSQL: each
// round runs `node -e 0`, `node bin/hls queue ...` into an SQLite file (HLS_DB) and the same into a
// PostgreSQL database (HLS_DATABASE_URL, a throwaway cluster on this machine with fsync on, over TCP),
// in an order that rotates each round, and times each with spawnSync. Each backend's ratio is taken
// against the `node -e 0` of its own round.
// Usage: bench/queue-startup [--rounds N]   (default 40; needs `npm run build`). A measurement, not a
// test: exits 0 on MISS.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HLS, quantile, startPostgres } from './lib.mjs';

/** The largest median ratio to `node -e 0` that passes, per backend. */
const TARGETS = { sqlite: 1.35, postgres: 1.5 };
const WARMUP = 3;

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
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !key.startsWith('HLS_') && key !== 'NODE_DEBUG' && key !== 'NODE_OPTIONS',
  ),
);

let deliveries = 0;
function timed(args, env = baseEnv) {
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
function runQueue(env) {
  deliveries += 1;
  const delivery = `bench-${process.pid}-${deliveries}`;
  const { ms, result } = timed(
    [HLS, 'queue', '--event', 'issues', '--delivery', delivery, '--body-file', bodyFile],
    env,
  );
  if (result.status !== 0 || !/^queued \d+ issues\.opened octo-org\/widgets\n$/.test(result.stdout)) {
    throw new Error(
      `hls queue failed (exit ${result.status}, signal ${result.signal}): ${JSON.stringify(result.stdout)} ${result.stderr}`,
    );
  }
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const f = (x, digits = 1) => x.toFixed(digits);

let cluster;
try {
  cluster = await startPostgres(dir);
  const sqliteEnv = { ...baseEnv, HLS_DB: join(dir, 'bench.db') };
  const postgresEnv = { ...baseEnv, HLS_DATABASE_URL: cluster.createDatabase('queue_startup') };
  const subjects = [
    { name: 'node', run: runNode },
    { name: 'sqlite', run: () => runQueue(sqliteEnv) },
    { name: 'postgres', run: () => runQueue(postgresEnv) },
  ];
  for (let i = 0; i < WARMUP; i += 1) for (const subject of subjects) subject.run();
  const ms = Object.fromEntries(subjects.map((subject) => [subject.name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (let k = 0; k < subjects.length; k += 1) {
      const subject = subjects[(round + k) % subjects.length];
      ms[subject.name].push(subject.run());
    }
  }
  for (const backend of ['sqlite', 'postgres']) {
    const ratios = ms[backend].map((q, round) => q / ms.node[round]);
    const ratioMedian = median(ratios);
    const verdict = ratioMedian <= TARGETS[backend] ? 'PASS' : 'MISS';
    process.stdout.write(
      `queue-startup: backend=${backend} rounds=${rounds} node_median_ms=${f(median(ms.node))} queue_median_ms=${f(median(ms[backend]))} ` +
        `ratio_median=${f(ratioMedian, 2)} ratio_of_medians=${f(median(ms[backend]) / median(ms.node), 2)} ` +
        `target<=${TARGETS[backend]} ${verdict}\n`,
    );
    process.stdout.write(
      `queue-startup: backend=${backend} node_p90_ms=${f(quantile(ms.node, 0.9))} queue_p90_ms=${f(quantile(ms[backend], 0.9))} ` +
        `ratio_p90=${f(quantile(ratios, 0.9), 2)} payload_bytes=${body.length} node=${process.version}\n`,
    );
  }
} catch (error) {
  process.stderr.write(`queue-startup: ${error.message}\n`);
  process.exitCode = 1;
} finally {
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}
