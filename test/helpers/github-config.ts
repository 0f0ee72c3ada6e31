// A config pointing `hls` at a fake GitHub, and the fake itself for commands that only talk to GitHub
// (labels sync, recover): start it, write settings.yaml, close it after each test.
import { afterEach, expect, it } from 'vitest';
import { startFakeGitHub, type FakeGitHub } from '../../src/simulators/github.js';
import { type RunResult } from './hls.js';
import { writeSettings, type Settings } from './setup.js';

/**
 * A fresh temp dir (`prefix`) with settings.yaml: the database in that dir, GitHub at `apiUrl` without
 * write pacing, and the other sections from `settings`.
 */
export function writeGitHubConfig(prefix: string, apiUrl: string, settings: Record<string, unknown>): Settings {
  return writeSettings(prefix, { github: { api_url: apiUrl, pacing: { enabled: false } }, ...settings });
}

export interface GitHubSetup {
  fake: FakeGitHub;
  dir: string;
  db: string;
  env: NodeJS.ProcessEnv;
}

export interface GitHubSetupOptions {
  /** GITHUB_TOKEN; default "ghp_test", null: none at all. */
  token?: string | null;
  /** repositories[] of the config; default: what the test file passes. */
  repositories?: unknown[];
}

let fake: FakeGitHub | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/**
 * Starts a fake GitHub (closed after the test) and writes a config for it with `repositories` (or
 * `options.repositories`) and warn-level JSON logs; the env carries HLS_CONFIG and the token.
 */
export async function setupGitHub(
  prefix: string,
  repositories: unknown[],
  options: GitHubSetupOptions = {},
): Promise<GitHubSetup> {
  fake = await startFakeGitHub();
  const { dir, db, config } = writeGitHubConfig(prefix, fake.url, {
    repositories: options.repositories ?? repositories,
    logging: { format: 'json', level: 'warn' },
  });
  const env: NodeJS.ProcessEnv = { HLS_CONFIG: config };
  if (options.token !== null) env.GITHUB_TOKEN = options.token ?? 'ghp_test';
  return { fake, dir, db, env };
}

/**
 * The two token cases of a command that needs GitHub: without a token it exits 78 with exactly
 * `stderr.missing` and sends nothing; with a token GitHub rejects it exits 69 with `stderr.rejected`
 * (exactly, or matching the pattern) and nothing on stdout, never prints the token and writes nothing.
 */
export function itChecksTheToken(
  setup: (options: GitHubSetupOptions) => Promise<GitHubSetup>,
  run: (s: GitHubSetup) => Promise<RunResult>,
  stderr: { missing: string; rejected: string | RegExp },
): void {
  it('without a token exits 78 and sends nothing', async () => {
    const s = await setup({ token: null });
    const result = await run(s);
    expect(result.code).toBe(78);
    expect(result.stderr).toBe(stderr.missing);
    expect(s.fake.requests).toEqual([]);
  });

  it('a rejected token exits 69 with the status and never prints the token', async () => {
    const s = await setup({ token: 'ghp_wrong_secret_value' });
    const result = await run(s);
    expect(result.code).toBe(69);
    expect(result.stdout).toBe('');
    if (typeof stderr.rejected === 'string') expect(result.stderr).toBe(stderr.rejected);
    else expect(result.stderr).toMatch(stderr.rejected);
    expect(result.stderr + result.stdout).not.toContain('ghp_wrong_secret_value');
    expect(s.fake.writes()).toEqual([]);
  });
}
