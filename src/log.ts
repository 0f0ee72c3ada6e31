import { createConsola, LogLevels, type ConsolaInstance, type LogObject } from 'consola';

export type Logger = ConsolaInstance;
export type LogFormat = 'auto' | 'json' | 'pretty';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Logs go to stderr, so stdout stays for command output. JSON lines when stdout is not a terminal
 * (systemd, cron, pipes) or when asked; each line carries the fields passed with the message,
 * such as event_id and delivery_id.
 */
export function createLogger(level: LogLevel = 'info', format: LogFormat = 'auto'): Logger {
  const json = format === 'json' || (format === 'auto' && !process.stdout.isTTY);
  return createConsola({
    level: LogLevels[level],
    stdout: process.stderr,
    stderr: process.stderr,
    ...(json ? { reporters: [{ log: writeJsonLine }] } : {}),
  });
}

function writeJsonLine(entry: LogObject): void {
  const [message, ...rest] = entry.args;
  const fields = rest.find((arg) => arg !== null && typeof arg === 'object' && !(arg instanceof Error)) ?? {};
  const error = rest.find((arg): arg is Error => arg instanceof Error);
  const line: Record<string, unknown> = {
    time: entry.date.toISOString(),
    level: entry.type,
    msg: message instanceof Error ? message.message : String(message),
    ...(entry.tag ? { tag: entry.tag } : {}),
    ...fields,
    ...(error ? { error: error.message } : {}),
  };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}
