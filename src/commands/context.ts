import { loadConfig, type LoadedConfig } from '../config/load.js';
import { CliError, EXIT } from '../exit-codes.js';
import { createLogger, type Logger } from '../log.js';
import { openDatabase, type Db } from '../store/open.js';
import { databaseRefusal } from './database-errors.js';

export interface GlobalOptions {
  config?: string;
  db?: string;
}

export interface CommandContext {
  config: LoadedConfig;
  dbPath: string;
  log: Logger;
}

/** Config: --config > HLS_CONFIG. Database: --db > HLS_DB > database.path > ./hls.db. */
export function commandContext(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CommandContext {
  const config = loadConfig(options.config ?? (env.HLS_CONFIG || undefined), env);
  const dbPath = options.db ?? (env.HLS_DB || undefined) ?? config.database.path ?? 'hls.db';
  return { config, dbPath, log: createLogger(config.logging.level, config.logging.format) };
}

/**
 * Opens the database for a command, turning open failures into one-line errors with exit codes. Only
 * `hls worker` (and `hls queue`, which opens it itself) may `create` or migrate the file.
 */
export function openForCommand(dbPath: string, options: { create?: boolean } = {}): Db {
  try {
    return openDatabase(dbPath, options);
  } catch (error) {
    const refusal = databaseRefusal(error, dbPath);
    if (refusal) throw refusal;
    const code = (error as { code?: string }).code;
    throw new CliError(
      `database ${dbPath}: ${code ?? ''} ${(error as Error).message}`.replace(/\s+/g, ' '),
      EXIT.TEMP_FAIL,
    );
  }
}
