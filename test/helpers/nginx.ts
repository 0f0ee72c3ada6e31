// Debian's nginx for a test, configured with the shipped examples/nginx files: only ports and paths are
// replaced (listen port, certificate, allowlist include, logs, the relay's port). Runs in the
// foreground under a temp prefix; an HTTPS client that accepts the test certificate.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, waitFor } from './hls.js';
import { freePort, onPath } from './relay.js';

/** Debian's nginx (root's PATH has /usr/sbin; a user's may not). */
export const NGINX_BINARY: string | undefined = onPath('nginx') ?? executable('/usr/sbin/nginx');

function executable(path: string): string | undefined {
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

const CERT_DIR = join(ROOT, 'test/fixtures/front-door');

export interface Nginx {
  prefix: string;
  port: number;
  /** https://127.0.0.1:PORT/hooks/github */
  url: string;
  /** nginx's error log and stderr so far. */
  log(): string;
  /** `nginx -s reload` and a wait for the new workers. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartNginxOptions {
  /** The allowlist file the server block includes. */
  allowlist: string;
  /** The relay's port on 127.0.0.1 (the example's 9000). */
  relayPort: number;
}

/** The example server block with this test's ports and paths. */
function serverBlock(prefix: string, port: number, options: StartNginxOptions): string {
  const text = readFileSync(join(ROOT, 'examples/nginx/hls-hooks.conf'), 'utf8');
  const replaced = text
    .replaceAll('listen 443 ssl;', `listen ${port} ssl;`)
    .replaceAll('listen [::]:443 ssl;', `listen [::]:${port} ssl;`)
    .replaceAll('/etc/letsencrypt/live/hooks.example.com/fullchain.pem', join(CERT_DIR, 'localhost.crt'))
    .replaceAll('/etc/letsencrypt/live/hooks.example.com/privkey.pem', join(CERT_DIR, 'localhost.key'))
    .replaceAll('/etc/nginx/hls/github-hooks.conf', options.allowlist)
    .replaceAll('/var/log/nginx/', `${prefix}/`)
    .replaceAll('127.0.0.1:9000', `127.0.0.1:${options.relayPort}`);
  // Every replacement must have applied: a changed example must not silently test something else.
  for (const gone of [/(?<!\d)443(?!\d)/, /letsencrypt/, /\/etc\/nginx\/hls\//, /\/var\/log\/nginx/, /:9000(?!\d)/]) {
    if (gone.test(replaced)) throw new Error(`examples/nginx/hls-hooks.conf: ${gone} was not replaced`);
  }
  return replaced;
}

export async function startNginx(options: StartNginxOptions): Promise<Nginx> {
  if (!NGINX_BINARY) throw new Error('nginx is not installed');
  const prefix = mkdtempSync(join(tmpdir(), 'hls-nginx-'));
  // Workers run as nobody: they must reach the temp directories under the prefix.
  chmodSync(prefix, 0o755);
  const port = await freePort();
  writeFileSync(join(prefix, 'hls-limits.conf'), readFileSync(join(ROOT, 'examples/nginx/hls-limits.conf')));
  writeFileSync(join(prefix, 'hls-hooks.conf'), serverBlock(prefix, port, options));
  writeFileSync(
    join(prefix, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${prefix}/nginx.pid;`,
      // notice: workers log their graceful shutdown, which reload() waits for.
      `error_log ${prefix}/error.log notice;`,
      'events { worker_connections 512; }',
      'http {',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${prefix}/${kind};`),
      `  access_log ${prefix}/access.log;`,
      `  include ${prefix}/hls-limits.conf;`,
      `  include ${prefix}/hls-hooks.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  const args = ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')];
  const child: ChildProcess = spawn(NGINX_BINARY, [...args, '-g', 'daemon off;'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  /** stderr, then the main error log, then the hook server's own (`error_log` in the example). */
  const log = (): string =>
    [output, ...['error.log', 'hls-hooks.error.log'].map((name) => readIfThere(join(prefix, name)))].join('');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(prefix, { recursive: true, force: true });
  };
  const url = `https://127.0.0.1:${port}/hooks/github`;
  const serving = async (): Promise<boolean> => {
    if (child.exitCode !== null) throw new Error(`nginx exited during start-up:\n${log()}`);
    try {
      return (await httpsRequest(`https://127.0.0.1:${port}/`, { method: 'GET' })).status === 404;
    } catch {
      return false;
    }
  };
  try {
    await waitFor(serving, 10_000, `nginx to listen on ${port}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    prefix,
    port,
    url,
    log,
    async reload() {
      const pid = readFileSync(join(prefix, 'nginx.pid'), 'utf8').trim();
      const before = readFileSync(join(prefix, 'error.log'), 'utf8').length;
      process.kill(Number(pid), 'SIGHUP');
      // New workers have started once the old one logs that it stops accepting connections.
      await waitFor(
        () => readFileSync(join(prefix, 'error.log'), 'utf8').slice(before).includes('gracefully shutting down'),
        10_000,
        'nginx to reload',
      );
    },
    stop,
  };
}

function readIfThere(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export interface HttpsResult {
  status: number;
  text: string;
}

/**
 * One HTTPS request on its own connection, accepting the test certificate. Resolves with the answer
 * even when the server answers before it has read the whole body (a 413) and then closes.
 */
export function httpsRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer; timeoutMs?: number; agent?: Agent },
): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      url,
      {
        method: options.method ?? 'POST',
        headers: { ...options.headers, ...(options.body ? { 'content-length': String(options.body.length) } : {}) },
        rejectUnauthorized: false,
        agent: options.agent ?? false,
        timeout: options.timeoutMs ?? 20_000,
      },
      (res) => {
        answered = true;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in time`)));
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    req.end(options.body);
  });
}
