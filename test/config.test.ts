import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runHls, tempDir } from './helpers/hls.js';

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
