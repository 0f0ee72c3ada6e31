// Synchronous access to a test's PostgreSQL database through `psql`, as an operator would read it: the
// rows of a query (parameters bound as psql variables, never spliced into the SQL) as plain objects.
import { execFileSync } from 'node:child_process';

/** Runs `sql` (read from stdin, so psql variables are interpolated) against `url`; psql's unaligned output. */
export function psql(url: string, sql: string, variables: Record<string, string> = {}): string {
  const args = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url];
  for (const [name, value] of Object.entries(variables)) args.push('-v', `${name}=${value}`);
  try {
    return execFileSync('psql', args, { input: sql, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
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

/**
 * Replaces each `?` placeholder outside string literals and quoted names with a reference to a psql
 * variable holding the parameter (numbers and null inline, as they cannot carry SQL); returns the SQL
 * and the variables.
 */
function bindParameters(sql: string, params: unknown[]): { sql: string; variables: Record<string, string> } {
  const variables: Record<string, string> = {};
  let bound = '';
  let quote: string | undefined;
  let next = 0;
  for (const char of sql) {
    if (quote) {
      if (char === quote) quote = undefined;
      bound += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      bound += char;
    } else if (char === '?') {
      if (next >= params.length) throw new Error(`query: more placeholders than the ${params.length} parameters`);
      bound += reference(params[next], `hls_p${next + 1}`, variables);
      next += 1;
    } else {
      bound += char;
    }
  }
  if (next !== params.length) throw new Error(`query: ${params.length} parameters for ${next} placeholders`);
  return { sql: bound, variables };
}

function reference(value: unknown, name: string, variables: Record<string, string>): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`query: parameter ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (Buffer.isBuffer(value)) {
    variables[name] = `\\x${value.toString('hex')}`;
    return `(:'${name}')::bytea`;
  }
  variables[name] = String(value);
  return `:'${name}'`;
}

/**
 * The rows of `sql` (with `?` placeholders) on the database at `url`: numbers as numbers, bytea
 * columns as Buffers, like better-sqlite3 returns them from SQLite.
 */
export function queryPostgres<T>(url: string, sql: string, params: unknown[]): T[] {
  const bound = bindParameters(sql.trim().replace(/;$/, ''), params);
  // A temporary view names the result's columns with their types, so bytea columns can be decoded.
  const output = psql(
    url,
    `CREATE TEMPORARY VIEW hls_query AS ${bound.sql};
SELECT json_build_object(
  'types', (SELECT json_object_agg(attname, format_type(atttypid, NULL)) FROM pg_attribute
            WHERE attrelid = 'pg_temp.hls_query'::regclass AND attnum > 0),
  'rows', (SELECT coalesce(json_agg(hls_query), '[]') FROM hls_query));`,
    bound.variables,
  );
  const { types, rows } = JSON.parse(output) as { types: Record<string, string>; rows: Record<string, unknown>[] };
  const binary = Object.keys(types).filter((column) => types[column] === 'bytea');
  for (const row of rows) {
    for (const column of binary) {
      const value = row[column];
      if (typeof value === 'string') row[column] = Buffer.from(value.slice(2), 'hex');
    }
  }
  return rows as T[];
}
