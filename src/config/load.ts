import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type * as z from 'zod';
import { CliError, EXIT } from '../exit-codes.js';
import { interpolateEnv, InterpolationError } from './interpolate.js';
import { configSchema, type Config } from './schema.js';

export interface LoadedConfig extends Config {
  /** The file it came from, or undefined for the built-in defaults. */
  source?: string;
  /** Keys whose value was only `${VAR}` with VAR unset (so they count as not configured). */
  unresolved: string[];
}

/** Reads, interpolates and validates a YAML config; without a path returns the defaults. */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  if (!path) return { ...configSchema.parse({}), unresolved: [] };
  const file = resolve(path);
  const raw = readConfigText(file);
  let tree: unknown;
  const unresolved: string[] = [];
  try {
    tree = interpolateEnv(parseYaml(raw) ?? {}, env, unresolved);
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const where = error.linePos ? `line ${error.linePos[0].line}: ` : '';
      throw new CliError(`config ${file}: ${where}${error.message.split('\n')[0]}`, EXIT.CONFIG);
    }
    if (error instanceof InterpolationError) throw new CliError(`config ${file}: ${error.message}`, EXIT.CONFIG);
    throw error;
  }
  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) {
    throw new CliError(`config ${file}: ${describeIssue(parsed.error.issues[0]!)}`, EXIT.CONFIG);
  }
  return { ...resolvePaths(parsed.data, file), unresolved };
}

function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : code;
    throw new CliError(`config ${file}: ${reason} (check --config / HLS_CONFIG)`, EXIT.CONFIG);
  }
}

/** Relative paths in the config are relative to the config file, not to the working directory. */
function resolvePaths(config: Config, file: string): Config & { source: string } {
  const base = dirname(file);
  const handlers = Object.fromEntries(
    Object.entries(config.handlers).map(([event, modulePath]) => [event, resolve(base, modulePath)]),
  );
  const database = config.database.path === undefined ? {} : { path: resolve(base, config.database.path) };
  return { ...config, database, handlers, source: file };
}

/** Turns a schema issue into `repositories[0].events[2]: unknown event "isues"`. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path);
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`
      : issue.message;
  return path ? `${path}: ${message}` : message;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`))
    .join('');
}
