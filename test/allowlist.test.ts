// `hls allowlist` and its doctor check: the strict CIDR parsing and rendering (pure), then the real
// command and `hls doctor` against the GitHub simulator's GET /meta. The nginx side is front-door.test.ts.
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hookRanges, MAX_RANGES, renderAllowlist } from '../src/front-door/allowlist.js';
import { parseCidr } from '../src/front-door/cidr.js';
import { GITHUB_HOOK_RANGES } from '../src/simulators/github.js';
import { setupGitHub, type GitHubSetup } from './helpers/github-config.js';
import { runHls, type RunResult } from './helpers/hls.js';

describe('CIDR parsing', () => {
  it.each([
    ['140.82.112.0/20', '140.82.112.0/20'],
    ['192.0.2.7/32', '192.0.2.7/32'],
    ['2a0a:a440::/29', '2a0a:a440::/29'],
    ['2606:50C0:0000:0000::/32', '2606:50c0::/32'],
    ['2001:db8:0:0:1:0:0:0/80', '2001:db8:0:0:1::/80'],
    ['2001:db8:0:1:0:0:1:0/112', '2001:db8:0:1::1:0/112'],
    ['::1/128', '::1/128'],
    ['::ffff:192.0.2.0/120', '::ffff:c000:200/120'],
    ['1:2:3:4:5:6:7:8/128', '1:2:3:4:5:6:7:8/128'],
  ])('%s is the range %s', (input, text) => {
    expect(parseCidr(input).text).toBe(text);
  });

  it.each([
    '1.2.3.4/32; allow all',
    '1.2.3.0/24;',
    '1.2.3.0/24\nallow all',
    '1.2.3.0/24 ',
    ' 1.2.3.0/24',
    '1.2.3.0/24#',
    '1.2.3.4',
    'all',
    '',
    '1.2.3.4/33',
    '::/129',
    '1.2.3.0/024',
    '1.2.3.0/-1',
    '1.2.3.0/',
    '1.2.3.4/24',
    '2001:db8::1/64',
    '01.2.3.0/24',
    '256.1.1.0/24',
    '1.2.3/24',
    '1.2.3.4.5/32',
    '١.2.3.0/24',
    'fe80::1%eth0/128',
    '1::2::3/64',
    '1:2:3:4:5:6:7:8:9/128',
    '1:2:3:4:5:6:7::8/128',
    ':::/0',
    '12345::/16',
    '::ffff:1.2.3/120',
    '::1.2.3.4:5/128',
    'g::/16',
  ])('%j is refused, quoted in the error', (input) => {
    expect(() => parseCidr(input)).toThrow(`${JSON.stringify(input)} is not a network range`);
  });
});

describe('hook ranges of a /meta answer', () => {
  it("GitHub's ranges: deduplicated, IPv4 first, in address order", () => {
    const ranges = hookRanges({ hooks: [...GITHUB_HOOK_RANGES, '140.82.112.0/20'], web: ['1.2.3.4/32'] });
    expect(ranges.map((range) => range.text)).toEqual([
      '140.82.112.0/20',
      '143.55.64.0/20',
      '185.199.108.0/22',
      '192.30.252.0/22',
      '2606:50c0::/32',
      '2a0a:a440::/29',
    ]);
  });

  it.each([
    [null, 'the answer has no "hooks" list'],
    ['[]', 'the answer has no "hooks" list'],
    [{}, 'the answer has no "hooks" list'],
    [{ hooks: '1.2.3.0/24' }, 'the answer has no "hooks" list'],
    [{ hooks: [] }, 'the "hooks" list is empty'],
    [{ hooks: ['1.2.3.0/24', 7] }, '7 in "hooks" is not a string'],
    [{ hooks: ['1.2.3.0/24', null] }, 'null in "hooks" is not a string'],
    [{ hooks: ['1.2.3.0/24', '1.2.3.4/32; allow all'] }, '"1.2.3.4/32; allow all" is not a network range'],
    [{ hooks: ['0.0.0.0/0'] }, '0.0.0.0/0 is wider than /8'],
    [{ hooks: ['10.0.0.0/7'] }, '10.0.0.0/7 is wider than /8'],
    [{ hooks: ['::/0'] }, '::/0 is wider than /16'],
    [{ hooks: ['2000::/3'] }, '2000::/3 is wider than /16'],
  ])('%j is refused: %s', (meta, message) => {
    expect(() => hookRanges(meta)).toThrow(message);
  });

  it(`more than ${MAX_RANGES} ranges are refused`, () => {
    const hooks = Array.from({ length: MAX_RANGES + 1 }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    expect(() => hookRanges({ hooks })).toThrow(
      `the "hooks" list has ${MAX_RANGES + 1} ranges (at most ${MAX_RANGES})`,
    );
    expect(hookRanges({ hooks: hooks.slice(1) })).toHaveLength(MAX_RANGES);
  });

  it('renders one allow line per range after a two-line header, without a timestamp', () => {
    const text = renderAllowlist(
      hookRanges({ hooks: ['2a0a:a440::/29', '192.30.252.0/22'] }),
      'https://ghe.test/api/v3',
    );
    expect(text).toBe(
      '# GitHub webhook source ranges ("hooks" of GET https://ghe.test/api/v3/meta), written by `hls allowlist`.\n' +
        '# Included by the hls server block before `deny all;`. Rewritten whole: do not edit.\n' +
        'allow 192.30.252.0/22;\n' +
        'allow 2a0a:a440::/29;\n',
    );
  });
});

/** The allow lines of a written file. */
const allowLines = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('allow '));

const GITHUB_ALLOW_LINES = [
  'allow 140.82.112.0/20;',
  'allow 143.55.64.0/20;',
  'allow 185.199.108.0/22;',
  'allow 192.30.252.0/22;',
  'allow 2606:50c0::/32;',
  'allow 2a0a:a440::/29;',
];

async function setup(token: string | null = null, frontDoor?: Record<string, string>): Promise<GitHubSetup> {
  const s = await setupGitHub('hls-allowlist-', [], { token });
  if (frontDoor) {
    const config = JSON.parse(readFileSync(s.env.HLS_CONFIG!, 'utf8')) as Record<string, unknown>;
    writeFileSync(s.env.HLS_CONFIG!, JSON.stringify({ ...config, front_door: frontDoor }));
  }
  return s;
}

const allowlist = (s: GitHubSetup, ...args: string[]): Promise<RunResult> =>
  runHls(['allowlist', ...args], { env: s.env });

describe('hls allowlist', () => {
  it('writes the allow lines (exit 0), then finds them unchanged (exit 2) and leaves the file alone', async () => {
    const s = await setup();
    const file = join(s.dir, 'github-hooks.conf');
    const first = await allowlist(s, '--output', file);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe(`written ${file}: 6 ranges (4 IPv4, 2 IPv6); reload nginx\n`);
    expect(allowLines(file)).toEqual(GITHUB_ALLOW_LINES);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    // Without a token /meta is read anonymously.
    expect(s.fake.requests.map((r) => [r.method, r.path, r.headers.authorization])).toEqual([
      ['GET', '/meta', undefined],
    ]);

    const past = new Date(Date.now() - 3_600_000);
    utimesSync(file, past, past);
    const before = statSync(file);
    const second = await allowlist(s, '--output', file);
    expect(second).toMatchObject({ code: 2, stderr: '' });
    expect(second.stdout).toBe(`unchanged ${file}: 6 ranges (4 IPv4, 2 IPv6)\n`);
    const after = statSync(file);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('replaces the file (a new inode, by rename) when the ranges changed', async () => {
    const s = await setup('ghp_test');
    const file = join(s.dir, 'github-hooks.conf');
    expect((await allowlist(s, '--output', file)).code).toBe(0);
    const before = statSync(file);
    s.fake.meta = { hooks: ['192.30.252.0/22', '2a0a:a440::/29'] };
    const result = await allowlist(s, '--output', file);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(allowLines(file)).toEqual(['allow 192.30.252.0/22;', 'allow 2a0a:a440::/29;']);
    expect(statSync(file).ino).not.toBe(before.ino);
    // The configured token is sent.
    expect(s.fake.requests.map((r) => r.headers.authorization)).toEqual(['token ghp_test', 'token ghp_test']);
  });

  it('refuses an empty, injected or missing list with exit 65 and one line, and keeps the old file', async () => {
    const s = await setup();
    const file = join(s.dir, 'github-hooks.conf');
    expect((await allowlist(s, '--output', file)).code).toBe(0);
    const before = statSync(file);
    for (const [meta, message] of [
      [{ hooks: [] }, 'the "hooks" list is empty'],
      [{ hooks: ['192.30.252.0/22', '1.2.3.4/32; allow all'] }, '"1.2.3.4/32; allow all" is not a network range'],
      [{ hooks: ['192.30.252.0/22\ninclude /etc/shadow;'] }, '"192.30.252.0/22\\ninclude /etc/shadow;" is not'],
      [{ web: ['192.30.252.0/22'] }, 'the answer has no "hooks" list'],
    ] as const) {
      s.fake.meta = meta;
      const result = await allowlist(s, '--output', file);
      expect(result.code).toBe(65);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`error: ${s.fake.url}/meta: ${message}`);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(allowLines(file)).toEqual(GITHUB_ALLOW_LINES);
      expect(statSync(file).ino).toBe(before.ino);
    }
  });

  it('an unreachable GitHub is exit 69 and writes nothing', async () => {
    const s = await setup();
    const config = JSON.parse(readFileSync(s.env.HLS_CONFIG!, 'utf8')) as { github: Record<string, unknown> };
    config.github.api_url = 'http://127.0.0.1:1';
    writeFileSync(s.env.HLS_CONFIG!, JSON.stringify(config));
    const file = join(s.dir, 'github-hooks.conf');
    const result = await allowlist(s, '--output', file);
    expect(result.code).toBe(69);
    expect(result.stderr).toMatch(
      new RegExp(`^error: cannot read http://127.0.0.1:1/meta: cannot reach GitHub: .+\\n$`),
    );
    expect(() => statSync(file)).toThrow(/ENOENT/);
  });

  it('--dry-run prints the file it would write and writes nothing; --json says what happened', async () => {
    const s = await setup();
    const file = join(s.dir, 'github-hooks.conf');
    const dry = await allowlist(s, '--output', file, '--dry-run');
    expect(dry.code).toBe(0);
    const [verdict, ...content] = dry.stdout.trimEnd().split('\n');
    expect(verdict).toBe(`would write ${file}: 6 ranges (4 IPv4, 2 IPv6)`);
    expect(content.filter((line) => line.startsWith('allow '))).toEqual(GITHUB_ALLOW_LINES);
    expect(() => statSync(file)).toThrow(/ENOENT/);

    const json = await allowlist(s, '--output', file, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      file,
      source: `${s.fake.url}/meta`,
      changed: true,
      written: true,
      ranges: GITHUB_ALLOW_LINES.map((line) => line.slice('allow '.length, -1)),
    });
    const again = await allowlist(s, '--output', file, '--json');
    expect(again.code).toBe(2);
    expect(JSON.parse(again.stdout)).toMatchObject({ changed: false, written: false });
  });

  it('writes front_door.allowlist_file (relative to the config) without --output; neither is exit 64', async () => {
    const s = await setup(null, { allowlist_file: 'nginx/github-hooks.conf' });
    mkdirSync(join(s.dir, 'nginx'));
    const result = await allowlist(s);
    expect(result.code).toBe(0);
    expect(allowLines(join(s.dir, 'nginx/github-hooks.conf'))).toEqual(GITHUB_ALLOW_LINES);

    const bare = await setup();
    const missing = await allowlist(bare);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toBe('error: no allowlist file: give --output FILE or set front_door.allowlist_file\n');
    expect(bare.fake.requests).toEqual([]);
  });

  it('a file it cannot create is exit 73 with the reason', async () => {
    const s = await setup();
    const file = join(s.dir, 'no-such-dir/github-hooks.conf');
    const result = await allowlist(s, '--output', file);
    expect(result.code).toBe(73);
    expect(result.stderr).toBe(`error: cannot replace ${file}: ENOENT (the directory must be writable by hls)\n`);
  });
});

describe('hls doctor: the allowlist check', () => {
  const allowlistCheck = async (s: GitHubSetup): Promise<{ status: string; detail: string } | undefined> => {
    const result = await runHls(['doctor', '--json'], { env: s.env });
    const report = JSON.parse(result.stdout) as { checks: { name: string; status: string; detail: string }[] };
    return report.checks.find((check) => check.name === 'allowlist');
  };

  it('says nothing when front_door.allowlist_file is not set, and asks nothing of GitHub', async () => {
    const s = await setup();
    expect(await allowlistCheck(s)).toBeUndefined();
    expect(s.fake.requests.filter((r) => r.path === '/meta')).toEqual([]);
  });

  it('warns when the file is missing, a week old, or differs from /meta; ok when current', async () => {
    const s = await setup(null, { allowlist_file: 'github-hooks.conf' });
    const file = join(s.dir, 'github-hooks.conf');
    const refresh = `run \`hls allowlist --output ${file}\` and reload nginx; check the hls-allowlist.timer`;
    expect(await allowlistCheck(s)).toMatchObject({ status: 'warn', detail: `${file}: missing; ${refresh}` });

    expect((await allowlist(s)).code).toBe(0);
    expect(await allowlistCheck(s)).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(new RegExp(`^${file}: matches /meta \\(6 ranges\\), written [\\d.]+m?s ago$`)),
    });

    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000);
    utimesSync(file, eightDaysAgo, eightDaysAgo);
    s.fake.meta = { hooks: ['192.30.252.0/22'] };
    expect(await allowlistCheck(s)).toMatchObject({
      status: 'warn',
      detail: `${file}: not rewritten for 8.0d; differs from ${s.fake.url}/meta (1 range there); ${refresh}`,
    });
  });
});
