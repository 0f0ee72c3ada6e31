// Hosts for multi-host tests: each one a network namespace joined to this (root) namespace by a veth pair,
// with its own address and a default route through the root side. A server bound to any host's root-side
// address (its `gateway`) is reachable from every host whose link is up; cutting one host's link leaves the
// others connected. Needs root and iproute2's `ip`; `unshare` (util-linux) gives each process a hostname.
import { execFileSync, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { describe, it } from 'vitest';
import { finished, type RunResult } from './hls.js';
import { postgresBinDir } from './postgres-cluster.js';
import { onPath, RELAY_BINARY } from './relay.js';

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  if (!onPath('ip')) return 'no `ip` on PATH (Debian package iproute2)';
  if (!onPath('unshare')) return 'no `unshare` on PATH (Debian package util-linux)';
  return undefined;
}

export interface Host {
  /** The namespace's name, also the hostname its processes see. */
  name: string;
  /** The host's address (its side of the veth pair). */
  address: string;
  /** The root side's address of this host's link. */
  gateway: string;
  /** The argv that runs `command` inside the host, under the host's own hostname. */
  command(command: string, args: string[]): string[];
  /** Runs `command args` inside the host to the end, `input` on its stdin. */
  exec(command: string, args: string[], input?: string | Buffer): Promise<RunResult>;
  /** Cuts (false) or restores (true) the host's link: its connections see lost packets, not resets. */
  setLink(up: boolean): void;
  /** Removes the namespace and its link; safe to call twice. */
  destroy(): void;
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** A subnet 10.X.Y.0/24 no interface of this machine uses, for one test run. */
function freeSubnet(): string {
  const used = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' });
  for (;;) {
    const subnet = `10.${randomInt(64, 250)}.${randomInt(1, 250)}`;
    if (!used.includes(` ${subnet}.`)) return subnet;
  }
}

/**
 * Creates a host: namespace `name` (at most 13 characters: the veth ends take it plus two characters)
 * with loopback up and address x.x.x.2/24, its veth peer in the root namespace at x.x.x.1.
 */
export function createHost(name: string): Host {
  if (name.length > 13) throw new Error(`host name ${name} is longer than 13 characters`);
  const subnet = freeSubnet();
  const [outside, inside] = [`${name}-o`, `${name}-i`];
  const host: Host = {
    name,
    address: `${subnet}.2`,
    gateway: `${subnet}.1`,
    command: (command, args) => [
      'ip',
      'netns',
      'exec',
      name,
      'unshare',
      '--uts',
      'sh',
      '-c',
      'hostname "$0" && exec "$@"',
      name,
      command,
      ...args,
    ],
    exec: (command, args, input) => {
      const [program, ...rest] = host.command(command, args);
      return finished(spawn(program!, rest, { stdio: ['pipe', 'pipe', 'pipe'] }), input);
    },
    setLink: (up) => ip('link', 'set', outside, up ? 'up' : 'down'),
    destroy: () => {
      for (const args of [
        ['link', 'del', outside],
        ['netns', 'del', name],
      ]) {
        try {
          ip(...args);
        } catch {
          // already gone
        }
      }
    },
  };
  try {
    ip('netns', 'add', name);
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', name);
    ip('addr', 'add', `${host.gateway}/24`, 'dev', outside);
    ip('link', 'set', outside, 'up');
    ip('-n', name, 'addr', 'add', `${host.address}/24`, 'dev', inside);
    ip('-n', name, 'link', 'set', inside, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
    ip('-n', name, 'route', 'add', 'default', 'via', host.gateway);
  } catch (error) {
    host.destroy();
    throw new Error(`cannot create host ${name}: ${String((error as { stderr?: unknown }).stderr ?? error)}`);
  }
  return host;
}

/**
 * `describe` for suites that build hosts and run the relay and PostgreSQL on them: runs when everything
 * is there; otherwise fails when CI, HLS_REQUIRE_POSTGRES or HLS_REQUIRE_RELAY is set, else skips with a
 * loud warning naming `file` and what is missing.
 */
export function describeWithHosts(file: string, name: string, body: () => void): void {
  const missing = [
    netnsUnavailable(),
    RELAY_BINARY ? undefined : 'no `webhook` relay on PATH (Debian package webhook)',
    postgresBinDir() ? undefined : 'no PostgreSQL (Debian package postgresql)',
  ].filter((reason) => reason !== undefined);
  if (missing.length === 0) {
    describe(name, body);
  } else if (process.env.CI || process.env.HLS_REQUIRE_POSTGRES || process.env.HLS_REQUIRE_RELAY) {
    describe(name, () => {
      it('needs root, iproute2, the webhook relay and PostgreSQL', () => {
        throw new Error(`${file} cannot run: ${missing.join('; ')}; and CI or HLS_REQUIRE_POSTGRES is set`);
      });
    });
  } else {
    console.warn(
      `\n*** WARNING: ${file} DID NOT RUN: ${missing.join('; ')}.\n` +
        '*** Run it as root with those installed, or set HLS_REQUIRE_POSTGRES=1 to make this an error.\n',
    );
    describe.skip(name, () => {
      it('cannot run here', () => {});
    });
  }
}
