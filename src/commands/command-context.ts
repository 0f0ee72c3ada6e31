import { databaseTarget } from '../config/database-target.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { createLogger, type Logger } from '../log.js';
import { describeTarget, openStore, type OpenOptions } from '../store/open-store.js';
import { isDatabaseUnavailable } from '../store/errors.js';
import type { Store } from '../store/store.js';
import { databaseRefusal, databaseUnavailable } from './database-errors.js';

export interface GlobalOptions {
  config?: string;
  db?: string;
}

export interface CommandContext {
  config: LoadedConfig;
  /** An SQLite file path or a postgres:// URL (see databaseTarget). */
  database: string;
  log: Logger;
}

/** Config: --config > HLS_CONFIG. Database: see databaseTarget. */
export function commandContext(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CommandContext {
  const config = loadConfig(options.config ?? (env.HLS_CONFIG || undefined), env);
  const database = databaseTarget(options.db, env, config.database);
  return { config, database, log: createLogger(config.logging.level, config.logging.format) };
}

/**
 * Opens the store for a command, turning open failures into one-line errors with exit codes. Only
 * `hls worker` (and `hls queue`, which opens it itself) may `create` or migrate the database.
 */
export async function openForCommand(database: string, options: OpenOptions = {}): Promise<Store> {
  try {
    return await openStore(database, options);
  } catch (error) {
    throw databaseRefusal(error, database) ?? databaseUnavailable(error, database);
  }
}

/**
 * Runs `use` with the command's store open, and closes it whatever happens. A database that is busy or
 * goes away meanwhile is exit 75.
 */
export async function withStore<T>(
  database: string,
  use: (store: Store) => Promise<T>,
  options: OpenOptions = {},
): Promise<T> {
  const store = await openForCommand(database, options);
  try {
    return await use(store);
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw databaseUnavailable(error, database, 'try again');
    throw error;
  } finally {
    await store.close();
  }
}

export { describeTarget };
