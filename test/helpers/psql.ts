// Statements a test runs as the cluster's superuser through `psql` (CREATE DATABASE, which cannot run
// inside the transaction a driver's extended protocol opens).
import { execFileSync } from 'node:child_process';

/** Runs `sql` against `url`; psql's unaligned output. */
export function psql(url: string, sql: string): string {
  try {
    return execFileSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`psql failed: ${stderr || (error as Error).message}\n${sql}`);
  }
}

/** `adminUrl` with its database replaced by `name`. */
export function urlOfDatabase(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
