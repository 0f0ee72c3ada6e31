// The files operators copy: the worker unit and the relay drop-in (checked by systemd-analyze), the
// example config (checked by hls itself), the shell scripts, the cron file and hooks.json.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { RECOMMENDED_PERMISSIONS, REQUIRED_PERMISSIONS } from '../src/doctor/checks/github-app.js';
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

    for (const [unit, command] of [
      ['hls-prune', 'prune'],
      ['hls-metrics', 'stats --format prometheus --output /var/lib/prometheus/node-exporter/hls.prom'],
      ['hls-report', 'report --days 14 --output /var/lib/hls-report/index.html'],
    ] as const) {
      it(`${unit}.service and ${unit}.timer pass systemd-analyze verify`, () => {
        const dir = tempDir('hls-units-');
        const service = readFileSync(join(ROOT, `systemd/${unit}.service`), 'utf8');
        expect(service.split('\n')).toContain(`ExecStart=/usr/bin/node /opt/hls/bin/hls ${command}`);
        expect(service).toMatch(/^Type=oneshot$/m);
        expect(service).toMatch(/^User=hls$/m);
        expect(service).toMatch(/^EnvironmentFile=-\/etc\/hls\/env$/m);
        writeFileSync(
          join(dir, `${unit}.service`),
          service.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `),
        );
        writeFileSync(join(dir, `${unit}.timer`), readFileSync(join(ROOT, `systemd/${unit}.timer`), 'utf8'));
        for (const file of [`${unit}.service`, `${unit}.timer`]) {
          const result = verify(join(dir, file), [file]);
          expect(result.complaints, result.stderr).toEqual([]);
          expect(result.code, result.stderr).toBe(0);
        }
      });
    }

    it('hls-allowlist.service and .timer pass systemd-analyze verify; "unchanged" (exit 2) is a success', () => {
      const dir = tempDir('hls-units-');
      const service = readFileSync(join(ROOT, 'systemd/hls-allowlist.service'), 'utf8');
      // Reload nginx only when hls wrote a new file (exit 0) and nginx accepts its configuration.
      expect(service.split('\n')).toContain(
        "ExecStart=/bin/sh -c '/usr/bin/node /opt/hls/bin/hls allowlist --output /etc/nginx/hls/github-hooks.conf" +
          " && /usr/sbin/nginx -t -q && exec /bin/systemctl reload nginx'",
      );
      expect(service).toMatch(/^SuccessExitStatus=2$/m);
      expect(service).toMatch(/^ReadWritePaths=\/etc\/nginx\/hls /m);
      expect(readFileSync(join(ROOT, 'systemd/hls-allowlist.timer'), 'utf8')).toMatch(/^OnCalendar=daily$/m);
      for (const file of ['hls-allowlist.service', 'hls-allowlist.timer']) {
        writeFileSync(join(dir, file), readFileSync(join(ROOT, `systemd/${file}`), 'utf8'));
        const result = verify(join(dir, file), [file]);
        expect(result.complaints, result.stderr).toEqual([]);
        expect(result.code, result.stderr).toBe(0);
      }
    });

    it('hls-metrics.timer runs every minute and the service may write the textfile directory', () => {
      const timer = readFileSync(join(ROOT, 'systemd/hls-metrics.timer'), 'utf8');
      expect(timer).toMatch(/^OnCalendar=minutely$/m);
      const service = readFileSync(join(ROOT, 'systemd/hls-metrics.service'), 'utf8');
      expect(service).toMatch(/^ReadWritePaths=\/var\/lib\/hls -\/var\/lib\/prometheus\/node-exporter$/m);
    });

    it('hls-report.timer refreshes the page every 15 minutes into a directory systemd creates readable', () => {
      expect(readFileSync(join(ROOT, 'systemd/hls-report.timer'), 'utf8')).toMatch(/^OnCalendar=\*:0\/15$/m);
      const service = readFileSync(join(ROOT, 'systemd/hls-report.service'), 'utf8');
      expect(service).toMatch(/^StateDirectory=hls-report$/m);
      expect(service).toMatch(/^StateDirectoryMode=0755$/m);
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

describe('examples/github-app/manifest.json', () => {
  it("asks for exactly the permissions hls doctor checks an installation for, at the doctor's levels", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'examples/github-app/manifest.json'), 'utf8')) as {
      default_permissions: Record<string, string>;
    };
    const recommended = Object.fromEntries(
      Object.entries(RECOMMENDED_PERMISSIONS).map(([permission, { level }]) => [permission, level]),
    );
    expect(manifest.default_permissions).toEqual({ ...REQUIRED_PERMISSIONS, ...recommended });
  });
});

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
  /** Runs the monitor against a stand-in `hls` that prints `line` and exits `exit`; returns the arguments it got. */
  function monitor(line: string, exit: number, env: NodeJS.ProcessEnv = {}) {
    const dir = tempDir();
    const argsFile = join(dir, 'args');
    const fake = join(dir, 'fake-hls');
    writeFileSync(join(dir, 'line'), line);
    writeFileSync(
      fake,
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${argsFile}"\ncat "${join(dir, 'line')}"\necho "error: from the fake" >&2\nexit ${exit}\n`,
    );
    chmodSync(fake, 0o755);
    const result = spawnSync(MONITOR, [], { encoding: 'utf8', env: cleanEnv({ HLS_BIN: fake, ...env }) });
    const args = existsSync(argsFile) ? readFileSync(argsFile, 'utf8').trimEnd().split('\n') : null;
    return { code: result.status, stdout: result.stdout, args };
  }

  it('passes on the status line and exit code of hls stats --check', () => {
    for (const [state, code] of [
      ['OK', 0],
      ['WARNING', 1],
      ['CRITICAL', 2],
      ['UNKNOWN', 3],
    ] as const) {
      const line = `HLS ${state} - something | failed=0;1;20`;
      expect(monitor(`${line}\n`, code)).toEqual({ code, stdout: `${line}\n`, args: ['stats', '--check'] });
    }
  });

  it('maps HLS_MAX_FAILED and HLS_MAX_DUE_AGE onto one side of --threshold', () => {
    const run = monitor('HLS OK - fine\n', 0, { HLS_MAX_FAILED: '2', HLS_MAX_DUE_AGE: '0600' });
    expect(run.args).toEqual([
      'stats',
      '--check',
      '--threshold',
      'failed=3,',
      '--threshold',
      'oldest_due_seconds=,601',
    ]);
    expect(monitor('HLS OK - fine\n', 0, { HLS_MAX_FAILED: '', HLS_MAX_DUE_AGE: '' }).args).toEqual([
      'stats',
      '--check',
    ]);
  });

  it('is UNKNOWN (3) when hls fails otherwise, prints no status line, or a knob is not a whole number', () => {
    const failing = monitor('', 64);
    expect(failing.code).toBe(3);
    expect(failing.stdout).toBe('HLS UNKNOWN - hls stats exited with 64: error: from the fake\n');
    expect(monitor('something else\n', 0)).toMatchObject({ code: 3, stdout: expect.stringMatching(/^HLS UNKNOWN - /) });
    const injected = monitor('HLS OK\n', 0, { HLS_MAX_FAILED: '1; touch /tmp/x' });
    expect(injected).toEqual({
      code: 3,
      stdout: 'HLS UNKNOWN - HLS_MAX_FAILED must be a whole number below 1000000000\n',
      args: null,
    });
    expect(monitor('HLS OK\n', 0, { HLS_MAX_DUE_AGE: '-5' }).code).toBe(3);
    const missing = spawnSync(MONITOR, [], { encoding: 'utf8', env: cleanEnv({ HLS_BIN: '/nonexistent/hls' }) });
    expect(missing.status).toBe(3);
    expect(missing.stdout).toMatch(/^HLS UNKNOWN - hls stats exited with 127: /);
  });

  it('runs the real hls stats --check with the thresholds it maps', async () => {
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
    // No worker runs here: the config expects none.
    const config = join(dir, 'settings.yaml');
    writeFileSync(config, JSON.stringify({ alerts: { live_workers: { warning: 0, critical: 0 } } }));
    const result = spawnSync(MONITOR, [], {
      encoding: 'utf8',
      env: cleanEnv({
        HLS_BIN,
        HLS_DB: db,
        HLS_CONFIG: config,
        HLS_MAX_FAILED: '2',
        HLS_MAX_DUE_AGE: '3600',
        PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
      }),
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^HLS OK - 1 waiting, 0 failed, 0 live worker\(s\) \| failed=0;3;20 failure_rate=0;0\.1;0\.5 oldest_due_seconds=\d+s;600;3601 live_workers=0;0:;0:\n$/,
    );
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
