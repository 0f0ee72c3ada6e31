import type { Check } from './check.js';
import { printJson, printLines } from '../commands/format.js';

export function formatCheck(check: Check): string {
  return `${check.status.toUpperCase().padEnd(4)} ${check.name}: ${check.detail}`;
}

/** Replaces every known secret value in a text: a last guard, as no check puts a secret in its detail. */
export function redact(text: string, secrets: (string | undefined)[]): string {
  let result = text;
  for (const secret of secrets) if (secret) result = result.split(secret).join('[redacted]');
  return result;
}

/**
 * Collects checks, scrubs every known secret from their details and prints one line per check
 * as it comes (unless --json, where `finish` prints everything at once).
 */
export class Report {
  readonly checks: Check[] = [];

  constructor(
    private readonly secrets: (string | undefined)[],
    private readonly json: boolean,
  ) {}

  addSecrets(...secrets: (string | undefined)[]): void {
    this.secrets.push(...secrets);
  }

  add(...found: Check[]): void {
    for (const check of found) {
      const safe = { ...check, detail: redact(check.detail, this.secrets) };
      this.checks.push(safe);
      if (!this.json) printLines([formatCheck(safe)]);
    }
  }

  /** True when no check failed; prints the JSON document with --json. */
  finish(): boolean {
    const allOk = this.checks.every((check) => check.status !== 'fail');
    if (this.json) printJson({ ok: allOk, checks: this.checks });
    return allOk;
  }
}
