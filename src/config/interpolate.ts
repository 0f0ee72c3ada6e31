const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;
const ANY = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Keys that would reach an object's prototype machinery rather than name a setting. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export class ConfigTreeError extends Error {}

/**
 * Replaces ${VAR} and ${VAR:-default} in every string of a parsed YAML tree.
 * A value that is only "${VAR}" with VAR unset is dropped, so the key counts as not configured;
 * an unset variable inside a longer string is an error, since the result would be half a value.
 * The paths of dropped keys are appended to `unresolved`. `__proto__`, `constructor` and `prototype`
 * keys are refused wherever they appear.
 */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, unresolved: string[] = [], path = ''): unknown {
  if (typeof value === 'string') {
    const resolved = interpolateString(value, env, path);
    if (resolved === undefined) unresolved.push(path);
    return resolved;
  }
  if (Array.isArray(value)) {
    return value.map((item, index) => interpolateEnv(item, env, unresolved, `${path}[${index}]`));
  }
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const where = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) throw new ConfigTreeError(`${where}: key "${key}" is not allowed`);
      const resolved = interpolateEnv(item, env, unresolved, where);
      if (resolved !== undefined) result[key] = resolved;
    }
    return result;
  }
  return value;
}

function interpolateString(text: string, env: NodeJS.ProcessEnv, path: string): string | undefined {
  const whole = WHOLE.exec(text);
  if (whole) {
    const resolved = env[whole[1]!] || whole[2];
    return resolved === undefined || resolved === '' ? undefined : resolved;
  }
  return text.replace(ANY, (_match, name: string, fallback: string | undefined) => {
    const resolved = env[name] || fallback;
    if (resolved === undefined) throw new ConfigTreeError(`${path}: environment variable ${name} is not set`);
    return resolved;
  });
}
