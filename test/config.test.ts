import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { CliError } from '../src/exit-codes.js';
import { ROOT, runHls, tempDir } from './helpers/hls.js';

/** Writes a YAML config and runs `hls stats` with it (stats needs no keys and reads the whole config). */
async function statsWith(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir();
  const config = join(dir, 'settings.yaml');
  writeFileSync(config, yaml);
  return runHls(['stats', '--config', config, '--db', join(dir, 'missing.db')], { env });
}

describe('config', () => {
  it('names the key path of an unknown event', async () => {
    const result = await statsWith(`
repositories:
  - name: octo-org/widgets
    events: [issues, pull_request, isues]
`);
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(
      /^error: config .*settings\.yaml: repositories\[0\]\.events\[2\]: unknown event "isues"\n$/,
    );
  });

  it('rejects unknown keys, wrong types and malformed repository names with their paths', async () => {
    expect((await statsWith('github:\n  tokne: x\n')).stderr).toMatch(/: github: unknown key "tokne"\n$/);
    expect((await statsWith('queue:\n  max_attempts: many\n')).stderr).toMatch(
      /: queue\.max_attempts: .*expected number/,
    );
    expect((await statsWith('repositories:\n  - name: widgets\n')).stderr).toMatch(
      /: repositories\[0\]\.name: expected "owner\/repo"\n$/,
    );
    expect((await statsWith('logging:\n  format: xml\n')).code).toBe(78);
  });

  it('reports YAML syntax errors with their line', async () => {
    const result = await statsWith('github:\n  token: [unclosed\nclaude: {}\n');
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/^error: config .*: line \d+: /);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a missing config file is a config error that says where it looked', async () => {
    const result = await runHls(['stats', '--config', '/nonexistent/hls.yaml']);
    expect(result.code).toBe(78);
    expect(result.stderr).toBe('error: config /nonexistent/hls.yaml: not found (check --config / HLS_CONFIG)\n');
  });

  it('interpolates ${VAR} and ${VAR:-default}; an unset variable inside a longer value is an error', async () => {
    const dir = tempDir();
    const config = join(dir, 'settings.yaml');
    writeFileSync(config, `database:\n  path: ${dir}/\${DB_NAME:-fallback}.db\n`);
    const fallback = await runHls(['stats', '--config', config]);
    expect(fallback.code).toBe(66);
    expect(fallback.stderr).toContain(`${dir}/fallback.db does not exist`);
    const chosen = await runHls(['stats', '--config', config], { env: { DB_NAME: 'chosen' } });
    expect(chosen.stderr).toContain(`${dir}/chosen.db does not exist`);
    const unset = await statsWith('database:\n  path: /var/lib/${NOT_SET_ANYWHERE}/hls.db\n');
    expect(unset.code).toBe(78);
    expect(unset.stderr).toMatch(/database\.path: environment variable NOT_SET_ANYWHERE is not set/);
  });

  it('never prints secret values, even when the config around them is wrong', async () => {
    const secret = 'ghp_THIS_IS_A_SECRET_123';
    const result = await statsWith(
      'github:\n  token: ${GITHUB_TOKEN}\n  webhook_secret: ${GITHUB_TOKEN}\nqueue:\n  concurrency: 0\n',
      {
        GITHUB_TOKEN: secret,
      },
    );
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/queue\.concurrency/);
    expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('HLS_CONFIG is used when --config is absent, and database.path is relative to the config file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'settings.yaml'), 'database:\n  path: data/queue.db\n');
    const result = await runHls(['stats'], { env: { HLS_CONFIG: join(dir, 'settings.yaml') } });
    expect(result.code).toBe(66);
    expect(result.stderr).toContain(`${dir}/data/queue.db does not exist`);
  });
});

/** Loads a config written as JSON (which is YAML) in-process; returns the error it raised, if any. */
function loadError(tree: unknown): CliError | undefined {
  const file = join(tempDir(), 'settings.yaml');
  writeFileSync(file, typeof tree === 'string' ? tree : JSON.stringify(tree));
  try {
    loadConfig(file, {});
    return undefined;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    return error;
  }
}

/** `{a: {b: value}}` for "a.b". */
const at = (path: string, value: unknown): unknown =>
  path
    .split('.')
    .reverse()
    .reduce((inner, key) => ({ [key]: inner }), value);

/** The ranges of the configuration table in docs/configuration.md, for every setting that becomes a timer or a wait. */
const TIMER_SETTINGS: [path: string, min: number, max: number][] = [
  ['github.timeout_seconds', 1, 3600],
  ['github.label_cache_seconds', 0, 604_800],
  ['github.settings_file_ttl_seconds', 0, 86_400],
  ['github.pacing.min_interval_seconds', 0, 3600],
  ['github.pacing.max_wait_seconds', 1, 3600],
  ['claude.timeout_seconds', 1, 3600],
  ['claude.spend_limit_recheck_seconds', 1, 86_400],
  ['filters.debounce_seconds', 0, 86_400],
  ['queue.backoff_base_seconds', 0.01, 86_400],
  ['queue.backoff_max_seconds', 0.01, 604_800],
  ['queue.lease_seconds', 0.1, 86_400],
  ['queue.poll_ms', 10, 3_600_000],
  ['queue.grace_seconds', 0, 86_400],
];

describe('config limits (in-process)', () => {
  it.each(TIMER_SETTINGS)('%s accepts %d to %d and refuses values outside, naming the key', (path, min, max) => {
    expect(loadError(at(path, min))).toBeUndefined();
    expect(loadError(at(path, max))).toBeUndefined();
    const unit = path.endsWith('_ms') ? 1 : 1000;
    for (const outside of [min === 0 ? -1 : min / 2, max * 2, 2 ** 31 / unit]) {
      const error = loadError(at(path, outside));
      expect(error?.exitCode).toBe(78);
      expect(error?.message).toMatch(new RegExp(`: ${path.replace(/\./g, '\\.')}: expected ${min} to ${max} `));
    }
  });

  it.each(TIMER_SETTINGS)('docs/configuration.md gives %s the range %d to %d', (path, min, max) => {
    const table = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8').split('\n');
    const rows = table.filter((line) => line.startsWith(`| \`${path}\` |`));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(`(${min}–${max})`);
  });

  it('github.timeout_seconds defaults to 30', () => {
    expect(loadConfig(undefined, {}).github.timeout_seconds).toBe(30);
  });

  it('refuses __proto__, constructor and prototype keys anywhere, and pollutes nothing', () => {
    const cases: [yaml: string, path: string][] = [
      ['__proto__:\n  polluted: yes\n', '__proto__'],
      ['queue:\n  __proto__:\n    lease_seconds: 0.001\n', 'queue.__proto__'],
      ['{"queue": {"__proto__": {"polluted": true}}}', 'queue.__proto__'],
      ['claude:\n  prices:\n    constructor: {prototype: {polluted: yes}}\n', 'claude.prices.constructor'],
      ['repositories:\n  - name: o/r\n    labels:\n      prototype: {}\n', 'repositories[0].labels.prototype'],
    ];
    for (const [yaml, path] of cases) {
      const error = loadError(yaml);
      expect(error?.exitCode).toBe(78);
      expect(error?.message).toMatch(new RegExp(`: ${path.replace(/[.[\]]/g, '\\$&')}: key "\\w+" is not allowed$`));
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).lease_seconds).toBeUndefined();
  });

  it('refuses a YAML alias bomb and a file over 1 MiB; one just under loads', () => {
    const levels = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      levels.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const bomb = loadError(`${levels.join('\n')}\n`);
    expect(bomb?.exitCode).toBe(78);
    expect(bomb?.message).toMatch(/alias/i);
    const huge = loadError(`queue: {}\n#${'x'.repeat(1024 * 1024)}\n`);
    expect(huge?.message).toMatch(/: larger than 1 MiB$/);
    expect(loadError(`queue: {}\n#${'x'.repeat(1024 * 1024 - 20)}\n`)).toBeUndefined();
  });
});
