// The files operators copy: the worker unit and the relay drop-in (checked by systemd-analyze), the
// example config (checked by hls itself), the shell scripts, the cron file and hooks.json.
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { cleanEnv, HLS_BIN, ROOT, runHls, tempDir } from './helpers/hls.js';

const WORKER_UNIT = join(ROOT, 'systemd/hls-worker@.service');
const RELAY_DROP_IN = join(ROOT, 'examples/webhook/webhook.service.d/hls.conf');
const HOOKS = join(ROOT, 'examples/webhook/hooks.json');
const HANDLER_SCRIPT = join(ROOT, 'examples/webhook/handle-github-event.sh');
const MONITOR = join(ROOT, 'examples/monitor-hls');
const CRON = join(ROOT, 'examples/cron/hls');
const SETTINGS = join(ROOT, 'examples/settings.yaml');

const toolsRequired = Boolean(process.env.CI || process.env.HLS_REQUIRE_RELAY);

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

const systemdAnalyze = onPath('systemd-analyze');

interface Verified {
  code: number | null;
  stderr: string;
  /** stderr lines that name one of `files` (the tool also reports on unrelated units it happens to load). */
  complaints: string[];
}

function verify(unitPath: string, files: string[], env: NodeJS.ProcessEnv = {}): Verified {
  const result = spawnSync(systemdAnalyze!, ['verify', unitPath], {
    encoding: 'utf8',
    env: cleanEnv(env),
    timeout: 20_000,
  });
  const complaints = result.stderr
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => files.some((file) => line.includes(file)))
    // Not a defect of the file: the hls user exists on servers, not necessarily where tests run.
    .filter((line) => !(/\buser\b/i.test(line) && /\bhls\b/.test(line)));
  return { code: result.status, stderr: result.stderr, complaints };
}

/** The worker unit as an instance (templates cannot be verified alone), runnable on this machine. */
function workerInstance(transform: (text: string) => string = (text) => text): string {
  const dir = tempDir('hls-units-');
  const text = readFileSync(WORKER_UNIT, 'utf8');
  expect(text).toMatch(/^ExecStart=\/usr\/bin\/node /m);
  // verify fails when the ExecStart binary does not exist: point it at the node running this test.
  const path = join(dir, 'hls-worker@1.service');
  writeFileSync(path, transform(text.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `)));
  return path;
}

/** Debian's webhook.service (package webhook 2.8.0) plus our drop-in, in a private unit directory. */
function relayWithDropIn(transform: (text: string) => string = (text) => text): { dir: string; unit: string } {
  const dir = tempDir('hls-units-');
  const runnable = onPath('webhook') ?? process.execPath;
  writeFileSync(
    join(dir, 'webhook.service'),
    [
      '[Unit]',
      'Description=Small server for creating HTTP endpoints (hooks)',
      'ConditionPathExists=/etc/webhook.conf',
      '',
      '[Service]',
      `ExecStart=${runnable} -nopanic -hooks /etc/webhook.conf`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  );
  mkdirSync(join(dir, 'webhook.service.d'));
  const dropIn = readFileSync(RELAY_DROP_IN, 'utf8');
  expect(dropIn).toMatch(/^ExecStart=\/usr\/bin\/webhook /m);
  writeFileSync(
    join(dir, 'webhook.service.d/hls.conf'),
    transform(dropIn.replace(/^ExecStart=\/usr\/bin\/webhook /m, `ExecStart=${runnable} `)),
  );
  return { dir, unit: join(dir, 'webhook.service') };
}

if (!systemdAnalyze && toolsRequired) {
  describe('systemd units', () => {
    it('needs systemd-analyze', () => {
      throw new Error('systemd-analyze is not on PATH and CI or HLS_REQUIRE_RELAY is set: apt-get install systemd');
    });
  });
} else if (!systemdAnalyze) {
  console.warn(
    '\n*** WARNING: systemd unit checks in test/operator-files.test.ts DID NOT RUN: systemd-analyze is not on PATH.\n',
  );
  describe.skip('systemd units', () => {
    it('needs systemd-analyze', () => {});
  });
} else {
  describe('systemd units', () => {
    it('hls-worker@.service passes systemd-analyze verify', () => {
      const unit = workerInstance();
      const result = verify(unit, ['hls-worker@1.service']);
      expect(result.complaints, result.stderr).toEqual([]);
      expect(result.code, result.stderr).toBe(0);
    });

    it('hls-prune.service and hls-prune.timer pass systemd-analyze verify', () => {
      const dir = tempDir('hls-units-');
      const service = readFileSync(join(ROOT, 'systemd/hls-prune.service'), 'utf8');
      expect(service).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/hls\/bin\/hls prune$/m);
      writeFileSync(
        join(dir, 'hls-prune.service'),
        service.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `),
      );
      writeFileSync(join(dir, 'hls-prune.timer'), readFileSync(join(ROOT, 'systemd/hls-prune.timer'), 'utf8'));
      for (const unit of ['hls-prune.service', 'hls-prune.timer']) {
        const result = verify(join(dir, unit), [unit]);
        expect(result.complaints, result.stderr).toEqual([]);
        expect(result.code, result.stderr).toBe(0);
      }
    });

    it('the verify check does catch a misspelt key (control)', () => {
      const unit = workerInstance((text) => text.replace(/^UMask=/m, 'UMaks='));
      const result = verify(unit, ['hls-worker@1.service']);
      expect(result.complaints.join('\n')).toMatch(/UMaks/);
    });

    it('hls-worker@.service stops within its grace period and keeps the V8 JIT working', () => {
      const text = readFileSync(WORKER_UNIT, 'utf8');
      const timeout = Number(/^TimeoutStopSec=(\d+)$/m.exec(text)?.[1]);
      // queue.grace_seconds defaults to 30 s; systemd must not SIGKILL before it ends.
      expect(timeout).toBeGreaterThan(30);
      expect(text).not.toMatch(/^MemoryDenyWriteExecute=/m);
      expect(text).toMatch(/^User=hls$/m);
      expect(text).toMatch(/^StateDirectory=hls$/m);
      expect(text).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/hls\/bin\/hls worker --id %i$/m);
    });

    it('the webhook.service drop-in passes systemd-analyze verify on top of the packaged unit', () => {
      const { dir, unit } = relayWithDropIn();
      // A trailing ":" keeps the built-in search path after our directory.
      const result = verify(unit, ['webhook.service', 'hls.conf'], { SYSTEMD_UNIT_PATH: `${dir}:` });
      expect(result.complaints, result.stderr).toEqual([]);
      expect(result.code, result.stderr).toBe(0);
    });

    it('systemd-analyze reads the drop-in (control: a bogus key in it is reported)', () => {
      const { dir, unit } = relayWithDropIn((text) => `${text}\nBogusKey=1\n`);
      const result = verify(unit, ['webhook.service', 'hls.conf'], { SYSTEMD_UNIT_PATH: `${dir}:` });
      expect(result.complaints.join('\n')).toMatch(/hls\.conf.*BogusKey/);
    });

    it('the drop-in replaces the packaged command line and runs the relay as hls on loopback', () => {
      const text = readFileSync(RELAY_DROP_IN, 'utf8');
      expect(text).toMatch(/^ExecStart=$/m);
      expect(text).toMatch(
        /^ExecStart=\/usr\/bin\/webhook -hooks \/etc\/webhook\/hooks\.json -template -verbose -ip 127\.0\.0\.1 -port 9000$/m,
      );
      expect(text).toMatch(/^User=hls$/m);
      expect(text).toMatch(/^EnvironmentFile=\/etc\/hls\/env$/m);
      expect(text).toMatch(/^ReadWritePaths=\/var\/lib\/hls$/m);
      expect(text).not.toMatch(/^MemoryDenyWriteExecute=/m);
    });
  });
}

describe('examples/settings.yaml', () => {
  it('is accepted by hls (no config error) without the secrets in the environment', async () => {
    const dir = tempDir();
    const result = await runHls(['stats', '--config', SETTINGS, '--db', join(dir, 'x.db'), '--json']);
    expect(result.code, result.stderr).not.toBe(78);
    expect(result.stderr).not.toMatch(/^error: config/m);
    // The only complaint is the database that does not exist yet.
    expect(result.code, result.stderr).toBe(66);
  });

  it('is accepted with the secrets set, and has the documented shape', async () => {
    const dir = tempDir();
    const result = await runHls(['stats', '--config', SETTINGS, '--db', join(dir, 'x.db'), '--json'], {
      env: { GITHUB_TOKEN: 'ghp_test', HLS_GITHUB_WEBHOOK_SECRET: 'test-secret', ANTHROPIC_API_KEY: 'sk-ant-test' },
    });
    expect(result.code, result.stderr).toBe(66);
    expect(result.stderr).not.toMatch(/^error: config/m);
    const config = parseYaml(readFileSync(SETTINGS, 'utf8'));
    expect(config.github.token).toBe('${GITHUB_TOKEN}');
    expect(config.github.webhook_secret).toBe('${HLS_GITHUB_WEBHOOK_SECRET}');
    expect(config.claude.api_key).toBe('${ANTHROPIC_API_KEY}');
    expect(config.claude.model).toBe('claude-sonnet-5-5');
    expect(config.database.path).toBe('/var/lib/hls/hls.db');
    expect(config.repositories.length).toBeGreaterThanOrEqual(1);
  });
});

describe('shell scripts', () => {
  for (const script of [HANDLER_SCRIPT, MONITOR]) {
    const name = script.slice(ROOT.length + 1);
    it(`${name} is executable and passes sh -n and bash -n`, () => {
      expect(statSync(script).mode & 0o111, `${name} is not executable`).not.toBe(0);
      expect(readFileSync(script, 'utf8')).toMatch(/^#!\/bin\/sh\n/);
      for (const shell of ['sh', 'bash']) {
        const result = spawnSync(shell, ['-n', script], { encoding: 'utf8' });
        expect(result.status, `${shell} -n ${name}: ${result.stderr}`).toBe(0);
      }
    });
  }

  it('handle-github-event.sh only execs hls queue', () => {
    const lines = readFileSync(HANDLER_SCRIPT, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(lines).toEqual(['exec "${HLS_BIN:-hls}" queue']);
  });

  it('the cron file runs monitor-hls every 15 minutes as hls and logs through logger', () => {
    const entries = readFileSync(CRON, 'utf8')
      .split('\n')
      .filter((line) => /^[*0-9]/.test(line));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^\*\/15 \* \* \* \* hls \S*monitor-hls\b.*\| *logger -t hls-monitor$/);
  });
});

describe('examples/monitor-hls', () => {
  /** Runs the monitor against a stand-in `hls` that prints `stats` (or fails with `exit`). */
  function monitor(stats: unknown, env: NodeJS.ProcessEnv = {}, exit = 0) {
    const dir = tempDir();
    const statsFile = join(dir, 'stats.json');
    writeFileSync(statsFile, typeof stats === 'string' ? stats : JSON.stringify(stats));
    const fake = join(dir, 'fake-hls');
    writeFileSync(fake, `#!/bin/sh\ncat "${statsFile}"\nexit ${exit}\n`);
    chmodSync(fake, 0o755);
    const result = spawnSync(MONITOR, [], { encoding: 'utf8', env: cleanEnv({ HLS_BIN: fake, ...env }) });
    return { code: result.status, stdout: result.stdout };
  }

  const report = (failed: number, age: number | null) => ({
    queue: { pending: 3, processing: 1, retry: 0, completed: 10, failed, skipped: 0, total: 14 + failed },
    oldest_due_age_seconds: age,
  });

  it('maps the thresholds to exit codes 0 / 1 / 2 with one status line', () => {
    const ok = monitor(report(0, 5));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^HLS OK - .*pending 3.*\n$/);
    expect(monitor(report(0, null)).code).toBe(0);
    const warning = monitor(report(2, 5));
    expect(warning.code).toBe(1);
    expect(warning.stdout).toMatch(/^HLS WARNING - 2 failed > 0/);
    expect(monitor(report(2, 5), { HLS_MAX_FAILED: '2' }).code).toBe(0);
    const critical = monitor(report(2, 601));
    expect(critical.code).toBe(2);
    expect(critical.stdout).toMatch(/^HLS CRITICAL - oldest due event waiting 601s > 600s/);
    expect(monitor(report(0, 601), { HLS_MAX_DUE_AGE: '3600' }).code).toBe(0);
    for (const run of [ok, warning, critical]) expect(run.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('is UNKNOWN (3) when hls fails, prints something else, or a threshold is not a number', () => {
    const failing = monitor('', {}, 66);
    expect(failing.code).toBe(3);
    expect(failing.stdout).toMatch(/^HLS UNKNOWN - hls stats exited with 66/);
    expect(monitor('not json').code).toBe(3);
    expect(monitor({ queue: {} }).code).toBe(3);
    expect(monitor(report(0, 1), { HLS_MAX_FAILED: '1; touch /tmp/x' }).code).toBe(3);
  });

  it('reads the real hls stats output', async () => {
    const dir = tempDir();
    const db = join(dir, 'hls.db');
    const body = join(dir, 'body.json');
    writeFileSync(body, JSON.stringify({ action: 'opened', repository: { full_name: 'octo-org/widgets' } }));
    const queued = await runHls([
      'queue',
      '--db',
      db,
      '--event',
      'issues',
      '--delivery',
      'monitor-1',
      '--body-file',
      body,
    ]);
    expect(queued.code, queued.stdout).toBe(0);
    const result = spawnSync(MONITOR, [], {
      encoding: 'utf8',
      env: cleanEnv({ HLS_BIN, HLS_DB: db, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` }),
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^HLS OK - pending 1, processing 0, retry 0, failed 0, oldest due \d+s \|/);
  });
});

describe('examples/webhook/hooks.json', () => {
  it('is valid JSON once the relay (-template) fills in the secret, with the contract of DESIGN.md §2', () => {
    const raw = readFileSync(HOOKS, 'utf8');
    const action = '{{ getenv "HLS_GITHUB_WEBHOOK_SECRET" | js }}';
    expect(raw.split(action)).toHaveLength(2);
    expect(raw.split('{{'), 'no other template actions').toHaveLength(2);
    const hooks = JSON.parse(raw.replace(action, 'rendered-secret'));
    expect(hooks).toHaveLength(1);
    const [hook] = hooks;
    expect(hook.id).toBe('github');
    expect(hook['execute-command']).toBe('/opt/hls/examples/webhook/handle-github-event.sh');
    expect(hook['command-working-directory']).toBe('/var/lib/hls');
    expect(hook['pass-file-to-command']).toEqual(
      expect.arrayContaining([
        { source: 'raw-request-body', envname: 'HLS_BODY_FILE' },
        { source: 'entire-headers', envname: 'HLS_HEADERS_FILE' },
      ]),
    );
    expect(JSON.stringify(hook)).not.toContain('entire-payload');
    const envnames = Object.fromEntries(
      hook['pass-environment-to-command'].map((arg: { name: string; envname: string }) => [arg.envname, arg.name]),
    );
    expect(envnames).toEqual({
      HLS_GH_EVENT: 'X-GitHub-Event',
      HLS_GH_DELIVERY: 'X-GitHub-Delivery',
      HLS_GH_SIGNATURE: 'X-Hub-Signature-256',
    });
    expect(hook['include-command-output-in-response']).toBe(true);
    expect(hook['include-command-output-in-response-on-error']).toBe(true);
    expect(hook['success-http-response-code']).toBe(202);
    expect(hook['trigger-rule-mismatch-http-response-code']).toBe(403);
    expect(hook['trigger-signature-soft-failures']).toBe(true);
    expect(hook['http-methods']).toEqual(['POST']);
    const [signature, ...guards] = hook['trigger-rule'].and;
    expect(signature.or).toHaveLength(1);
    expect(signature.or[0].match).toEqual({
      type: 'payload-hmac-sha256',
      secret: 'rendered-secret',
      parameter: { source: 'header', name: 'X-Hub-Signature-256' },
    });
    expect(
      guards.map((guard: { match: { regex: string; parameter: { name: string } } }) => [
        guard.match.parameter.name,
        guard.match.regex,
      ]),
    ).toEqual([
      ['X-GitHub-Event', '^[a-z][a-z0-9_]{0,63}$'],
      ['X-GitHub-Delivery', '^[A-Za-z0-9-]{1,64}$'],
    ]);
  });
});
