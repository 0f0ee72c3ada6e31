// A network namespace with its own address, for a client that must come from somewhere else than
// 127.0.0.1: `ip netns add`, a veth pair with one end inside, a /30 between the two ends. Needs root and
// iproute2 (DESIGN.md §3). create → exec → destroy.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { finished, type RunResult } from './hls.js';
import { onPath } from './relay.js';

/** `ip` on PATH and root: what a namespace needs. */
export const NETNS_AVAILABLE = Boolean(onPath('ip')) && process.getuid?.() === 0;

export interface Netns {
  name: string;
  /** The root namespace's end of the veth pair: a server bound to 0.0.0.0 is reachable here. */
  hostAddress: string;
  /** The namespace's own address: what a server sees as the client address. */
  address: string;
  /** Runs `command args` inside the namespace and collects its output. */
  exec(command: string, args: string[], input?: string | Buffer): Promise<RunResult>;
  destroy(): void;
}

function ip(...args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim() || result.error?.message}`);
}

/**
 * A namespace whose address is in 198.18.0.0/15 (reserved for network tests), on a random /30 so that
 * parallel suites do not collide.
 */
export function createNetns(): Netns {
  const id = randomBytes(3).toString('hex');
  const name = `hls-${id}`;
  const hostSide = `hlsh${id}`;
  const nsSide = `hlsn${id}`;
  const base = `198.${18 + randomInt(2)}.${randomInt(256)}.${randomInt(64) * 4}`;
  const [a, b, c, d] = base.split('.').map(Number);
  const hostAddress = `${a}.${b}.${c}.${d! + 1}`;
  const address = `${a}.${b}.${c}.${d! + 2}`;
  const destroy = (): void => {
    // Deleting the namespace deletes the veth end inside it, and with it the pair.
    spawnSync('ip', ['netns', 'del', name], { timeout: 10_000 });
    spawnSync('ip', ['link', 'del', hostSide], { timeout: 10_000 });
  };
  try {
    ip('netns', 'add', name);
    ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide);
    ip('link', 'set', nsSide, 'netns', name);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostSide);
    ip('link', 'set', hostSide, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${address}/30`, 'dev', nsSide);
    ip('netns', 'exec', name, 'ip', 'link', 'set', nsSide, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (error) {
    destroy();
    throw error;
  }
  return {
    name,
    hostAddress,
    address,
    exec: (command, args, input) =>
      finished(spawn('ip', ['netns', 'exec', name, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }), input),
    destroy,
  };
}
