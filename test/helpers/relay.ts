// The real relay (adnanh/webhook 2.8.0) for a test: find the binary, write a copy of
// examples/webhook/hooks.json pointing at this checkout, start it on a free loopback port, wait until it
// has loaded the hook, send signed deliveries, stop it. The approach of test/relay.test.ts, as functions.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { describe, it } from 'vitest';
import { newDatabase } from './backend.js';
import { cleanEnv, HLS_BIN, ROOT, waitFor } from './hls.js';

/** The first executable `name` on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The `webhook` binary on PATH (Debian package `webhook`), or undefined. */
export const RELAY_BINARY: string | undefined = onPath('webhook');

/** CI or HLS_REQUIRE_RELAY: a missing relay is a failure, not a skip. */
export const RELAY_REQUIRED = Boolean(process.env.CI || process.env.HLS_REQUIRE_RELAY);

/**
 * `describe` for suites that need the relay, with the rule of test/relay.test.ts: without the binary,
 * fail when CI or HLS_REQUIRE_RELAY is set, else skip with a loud warning naming `file`.
 */
export function describeWithRelay(file: string, name: string, body: (binary: string) => void): void {
  if (RELAY_BINARY) {
    describe(name, () => body(RELAY_BINARY));
  } else if (RELAY_REQUIRED) {
    describe(name, () => {
      it('needs the webhook relay on PATH', () => {
        throw new Error(
          'the `webhook` relay (adnanh/webhook 2.8.0, Debian package `webhook`) is not on PATH, and CI or ' +
            'HLS_REQUIRE_RELAY is set: install it (apt-get install webhook) so the relay tests run',
        );
      });
    });
  } else {
    console.warn(
      `\n*** WARNING: ${file} DID NOT RUN: \`webhook\` (adnanh/webhook, Debian package \`webhook\`) is not on PATH.\n` +
        '*** Install it, or set HLS_REQUIRE_RELAY=1 to make this an error.\n',
    );
    describe.skip(name, () => {
      it('is not installed', () => {});
    });
  }
}

/** GitHub's X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw body. */
export function sign(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Writes examples/webhook/hooks.json into `dir` as an operator would install it, with the install paths
 * replaced: /opt/hls → this checkout, /var/lib/hls (the command's working directory) → `dir`.
 */
export function writeHooksFile(dir: string): string {
  const hooks = readFileSync(join(ROOT, 'examples/webhook/hooks.json'), 'utf8')
    .replaceAll('/opt/hls', ROOT)
    .replaceAll('/var/lib/hls', dir);
  const path = join(dir, 'hooks.json');
  writeFileSync(path, hooks);
  return path;
}

/** The X-GitHub-Hook-ID every delivery carries; it reaches hls only through the entire-headers file. */
export const HOOK_ID = '424242';

export interface DeliveryOptions {
  event?: string;
  /** Default: a fresh UUID. */
  delivery?: string;
  /** undefined: sign with the relay's secret; null: send no signature header; a string: send it as is. */
  signature?: string | null;
  /** Per-request timeout (default 15 s). */
  timeoutMs?: number;
}

export interface DeliveryResult {
  status: number;
  text: string;
  delivery: string;
  /** Wall time from sending the request to having read the whole response. */
  ms: number;
}

export interface Relay {
  /** The temp directory: hooks.json, the database and the relay's temporary body/header files. */
  dir: string;
  dbPath: string;
  port: number;
  secret: string;
  /** http://IP:PORT/hooks/github */
  url: string;
  process: ChildProcess;
  /** The relay's output so far (the last `logLimit` characters). */
  log(): string;
  deliver(body: Buffer, options?: DeliveryOptions): Promise<DeliveryResult>;
  /** SIGTERM (SIGKILL after 5 s), then removes `dir` unless `keepDir`. */
  stop(options?: { keepDir?: boolean }): Promise<void>;
}

export interface StartRelayOptions {
  binary?: string;
  secret?: string;
  /** Default: a new temp directory. */
  dir?: string;
  /** Default: a new database of the test backend (SQLite: `dir`/hls.db). */
  dbPath?: string;
  /** More environment for the relay (and so for `hls queue`). */
  env?: NodeJS.ProcessEnv;
  /** How much relay output to keep (default 256 KiB): -verbose logs every request. */
  logLimit?: number;
  /** Start-up deadline (default 10 s). */
  timeoutMs?: number;
  /** The address to listen on (default 127.0.0.1). */
  ip?: string;
  /** The argv that runs the relay somewhere else (e.g. in a network namespace: Host.command of netns.ts). */
  wrap?: (command: string, args: string[]) => string[];
}

/** Starts the relay on a free port (of loopback unless `ip` says otherwise) with examples/webhook/hooks.json and waits until it serves it. */
export async function startRelay(options: StartRelayOptions = {}): Promise<Relay> {
  const binary = options.binary ?? RELAY_BINARY;
  if (!binary) throw new Error('the `webhook` relay is not on PATH');
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'hls-relay-'));
  const dbPath = options.dbPath ?? newDatabase(dir);
  const secret = options.secret ?? `relay-test-${randomUUID()}`;
  const logLimit = options.logLimit ?? 256 * 1024;
  const hooksPath = writeHooksFile(dir);
  const port = await freePort();
  const ip = options.ip ?? '127.0.0.1';
  const args = ['-hooks', hooksPath, '-template', '-verbose', '-ip', ip, '-port', String(port)];
  const [command, ...argv] = options.wrap?.(binary, args) ?? [binary, ...args];
  const child = spawn(command!, argv, {
    cwd: dir,
    env: cleanEnv({
      HLS_GITHUB_WEBHOOK_SECRET: secret,
      HLS_DB: dbPath,
      HLS_BIN,
      // bin/hls starts with `#!/usr/bin/env node`: make sure it finds the node running the tests.
      PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
      ...options.env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  let loaded = false;
  const append = (chunk: string): void => {
    log += chunk;
    if (!loaded && log.includes('loaded: github')) loaded = true;
    if (log.length > 2 * logLimit) log = log.slice(-logLimit);
  };
  child.stdout!.setEncoding('utf8').on('data', append);
  child.stderr!.setEncoding('utf8').on('data', append);
  let exited = false;
  child.on('exit', () => (exited = true));
  const url = `http://${ip}:${port}/hooks/github`;

  const stop = async ({ keepDir = false } = {}): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    // The relay opens its socket before it loads hooks.json, and its log lines come through a pipe that
    // may be read after the HTTP answer: wait for both. With -verbose it keeps running when the file
    // fails to load, so that line ends the wait at once.
    await waitFor(
      async () => {
        if (exited) throw new Error(`webhook exited during start-up:\n${log}`);
        if (log.includes("couldn't load hooks")) throw new Error(`webhook did not load the github hook:\n${log}`);
        if (!loaded) return false;
        try {
          await fetch(`http://${ip}:${port}/`, { signal: AbortSignal.timeout(500) });
          return true;
        } catch {
          return false;
        }
      },
      options.timeoutMs ?? 10_000,
      `webhook to load the github hook and listen on ${ip}:${port}`,
    );
  } catch (error) {
    await stop({ keepDir: options.dir !== undefined });
    if (!(error instanceof Error) || !error.message.startsWith('timed out')) throw error;
    throw new Error(`${error.message}; the relay said:\n${log}`);
  }

  return {
    dir,
    dbPath,
    port,
    secret,
    url,
    process: child,
    log: () => log.slice(-logLimit),
    deliver: (body, deliveryOptions = {}) => deliver(url, secret, body, deliveryOptions),
    stop,
  };
}

/** Sends one delivery as GitHub does: JSON body, event and delivery headers, signed with `secret`. */
export async function deliver(
  url: string,
  secret: string,
  body: Buffer,
  options: DeliveryOptions = {},
): Promise<DeliveryResult> {
  const delivery = options.delivery ?? randomUUID();
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'GitHub-Hookshot/test',
    'X-GitHub-Event': options.event ?? 'issues',
    'X-GitHub-Delivery': delivery,
    'X-GitHub-Hook-ID': HOOK_ID,
  };
  const signature = options.signature === undefined ? sign(secret, body) : options.signature;
  if (signature !== null) headers['X-Hub-Signature-256'] = signature;
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: new Uint8Array(body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  const text = await response.text();
  return { status: response.status, text, delivery, ms: performance.now() - started };
}
