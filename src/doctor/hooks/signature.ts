import { fail, ok, type Check } from '../check.js';
import { isObject, type Json } from './json.js';
import { TEMPLATE } from './parse.js';

interface HmacRule {
  match: Json;
  /** Inside an `or`: with trigger-signature-soft-failures, a bad signature is a mismatch, not an error. */
  inOr: boolean;
}

/** A payload-hmac-sha256 rule on X-Hub-Signature-256 that no branch of the trigger rule can bypass. */
export function checkHookSignature(id: string, hook: Json, templates: string[]): Check {
  const name = `hook ${id} signature`;
  const rule = hook['trigger-rule'];
  const rules = collectHmacRules(rule, false);
  if (rules.length === 0) {
    const other = collectMatchTypes(rule).filter((type) => /^payload-(hmac|hash)-/.test(type));
    return fail(
      name,
      `no payload-hmac-sha256 rule${other.length ? ` (found ${other.join(', ')})` : ''}: anyone who reaches the relay ` +
        'can run the hook; add {"match": {"type": "payload-hmac-sha256", "secret": "{{ getenv \\"HLS_GITHUB_WEBHOOK_SECRET\\" | js }}", ' +
        '"parameter": {"source": "header", "name": "X-Hub-Signature-256"}}} to trigger-rule',
    );
  }
  const problems = rules.flatMap((found) => ruleProblems(found.match, templates));
  if (!requiresSignature(rule)) {
    problems.push('it sits in an "or" with alternatives that do not check the signature, so it can be bypassed');
  }
  if (problems.length > 0) return fail(name, `payload-hmac-sha256: ${problems.join('; ')}`);

  const soft = hook['trigger-signature-soft-failures'] === true;
  const mismatch = hook['trigger-rule-mismatch-http-response-code'];
  const wrapped = soft && rules.every((found) => found.inOr);
  const outcome = wrapped
    ? `wrapped in "or" with trigger-signature-soft-failures: a wrong signature is a rule mismatch (HTTP ${
        typeof mismatch === 'number' ? mismatch : '200; set trigger-rule-mismatch-http-response-code: 403'
      })`
    : 'not wrapped for soft failures: a wrong signature is an error (HTTP 500)';
  return ok(
    name,
    `payload-hmac-sha256 on X-Hub-Signature-256, ${describeSecret(rules[0]!.match, templates)}; ${outcome}`,
  );
}

function collectHmacRules(rule: unknown, inOr: boolean): HmacRule[] {
  if (!isObject(rule)) return [];
  if (Array.isArray(rule.and)) return rule.and.flatMap((child) => collectHmacRules(child, inOr));
  if (Array.isArray(rule.or)) return rule.or.flatMap((child) => collectHmacRules(child, true));
  if (isObject(rule.not)) return []; // a negated signature check protects nothing
  if (isObject(rule.match) && rule.match.type === 'payload-hmac-sha256') return [{ match: rule.match, inOr }];
  return [];
}

function collectMatchTypes(rule: unknown): string[] {
  if (!isObject(rule)) return [];
  const children = [rule.and, rule.or].flatMap((list) => (Array.isArray(list) ? list : []));
  const own = isObject(rule.match) && typeof rule.match.type === 'string' ? [rule.match.type] : [];
  return [...own, ...children.flatMap(collectMatchTypes), ...collectMatchTypes(rule.not)];
}

/** True when every way of satisfying the rule passes through a payload-hmac-sha256 match. */
function requiresSignature(rule: unknown): boolean {
  if (!isObject(rule)) return false;
  if (Array.isArray(rule.and)) return rule.and.some(requiresSignature);
  if (Array.isArray(rule.or)) return rule.or.length > 0 && rule.or.every(requiresSignature);
  return isObject(rule.match) && rule.match.type === 'payload-hmac-sha256';
}

function ruleProblems(match: Json, templates: string[]): string[] {
  const problems: string[] = [];
  const parameter = isObject(match.parameter) ? match.parameter : {};
  const header = typeof parameter.name === 'string' ? parameter.name : '';
  if (parameter.source !== 'header' || header.toLowerCase() !== 'x-hub-signature-256') {
    problems.push(
      `it checks ${String(parameter.source ?? '?')} ${header || '?'}; GitHub sends the signature in the ` +
        'X-Hub-Signature-256 header ({"source": "header", "name": "X-Hub-Signature-256"})',
    );
  }
  const source = secretSource(match.secret, templates);
  if (source.kind === 'empty') problems.push('its secret is empty');
  if (source.kind === 'template') problems.push('its secret is a template expression without getenv "VARIABLE"');
  return problems;
}

type SecretSource = { kind: 'empty' | 'literal' | 'template' } | { kind: 'env'; variable: string };

/** Where a rule's secret comes from, never the secret itself. */
function secretSource(secret: unknown, templates: string[]): SecretSource {
  if (typeof secret !== 'string' || secret === '') return { kind: 'empty' };
  const placeholder = TEMPLATE.exec(secret);
  if (!placeholder) return { kind: 'literal' };
  const variable = /getenv\s+"([^"]+)"/.exec(templates[Number(placeholder[1])] ?? '')?.[1];
  return variable ? { kind: 'env', variable } : { kind: 'template' };
}

function describeSecret(match: Json, templates: string[]): string {
  const source = secretSource(match.secret, templates);
  return source.kind === 'env'
    ? `secret from $${source.variable}`
    : 'secret written in the file (prefer {{ getenv "HLS_GITHUB_WEBHOOK_SECRET" | js }} with -template)';
}
