import { closeSync, openSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type * as z from 'zod';
import { CliError, EXIT } from '../exit-codes.js';
import { ConfigTreeError, interpolateEnv } from './interpolate.js';
import { configSchema, type Config } from './schema.js';

/** A config is a few KiB; anything past this is refused before it is parsed. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/**
 * YAML aliases (`*name`) expanded while building the tree; a "billion laughs" file multiplies them
 * and is refused (the yaml library's own count, see its `maxAliasCount` option).
 */
const MAX_ALIAS_COUNT = 100;

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
    tree = interpolateEnv(parseYaml(raw, { maxAliasCount: MAX_ALIAS_COUNT }) ?? {}, env, unresolved);
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const where = error.linePos ? `line ${error.linePos[0].line}: ` : '';
      throw new CliError(`config ${file}: ${where}${error.message.split('\n')[0]}`, EXIT.CONFIG);
    }
    // The yaml library reports an alias bomb or an alias without its anchor as a ReferenceError.
    if (error instanceof ReferenceError || error instanceof ConfigTreeError) {
      throw new CliError(`config ${file}: ${error.message}`, EXIT.CONFIG);
    }
    throw error;
  }
  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) {
    throw new CliError(`config ${file}: ${describeIssue(parsed.error.issues[0]!)}`, EXIT.CONFIG);
  }
  return { ...resolvePaths(parsed.data, file), unresolved };
}

/** Reads at most MAX_CONFIG_BYTES + 1 bytes, so that neither a huge file nor a device is read whole. */
function readConfigText(file: string): string {
  const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
  let length = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      let read: number;
      do {
        read = readSync(fd, buffer, length, buffer.length - length, null);
        length += read;
      } while (read > 0 && length < buffer.length);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : code;
    throw new CliError(`config ${file}: ${reason} (check --config / HLS_CONFIG)`, EXIT.CONFIG);
  }
  if (length > MAX_CONFIG_BYTES) {
    throw new CliError(`config ${file}: larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB`, EXIT.CONFIG);
  }
  return buffer.toString('utf8', 0, length);
}

/** Relative paths in the config are relative to the config file, not to the working directory. */
function resolvePaths(config: Config, file: string): Config & { source: string } {
  const base = dirname(file);
  const handlers = Object.fromEntries(
    Object.entries(config.handlers).map(([event, modulePath]) => [event, resolve(base, modulePath)]),
  );
  const database = config.database.path === undefined ? config.database : { path: resolve(base, config.database.path) };
  const allowlistFile = config.front_door.allowlist_file;
  const frontDoor = allowlistFile === undefined ? config.front_door : { allowlist_file: resolve(base, allowlistFile) };
  const app = config.github.app;
  const github =
    app?.private_key_file === undefined
      ? config.github
      : { ...config.github, app: { ...app, private_key_file: resolve(base, app.private_key_file) } };
  return { ...config, github, database, handlers, front_door: frontDoor, source: file };
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
