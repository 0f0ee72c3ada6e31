/**
 * Where the queue lives: --db > HLS_DB > HLS_DATABASE_URL > database.url > database.path > ./hls.db.
 * A `postgres://` URL selects PostgreSQL; anything else is an SQLite file.
 */
export function databaseTarget(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  config: { url?: string; path?: string } = {},
): string {
  return (
    flag ?? (env.HLS_DB || undefined) ?? (env.HLS_DATABASE_URL || undefined) ?? config.url ?? config.path ?? 'hls.db'
  );
}
