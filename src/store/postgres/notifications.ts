import postgres from 'postgres';
import type { ConnectOptions } from './connect.js';

/** The channel webhook_events' trigger notifies when an event is due now. */
const CHANNEL = 'hls_events';
const RELISTEN_MS = 1000;

/**
 * LISTENs on a connection of its own. When that connection drops (a server restart), it listens
 * again every second until it succeeds, then calls `onEvent` once for what it may have missed.
 * Returns the function that stops listening and closes the connection.
 */
export async function listenForEvents(
  target: { url: string; options: ConnectOptions },
  onEvent: () => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const relisten = (): void => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      sql`LISTEN hls_events`.then(() => stopped || onEvent(), relisten);
    }, RELISTEN_MS).unref();
  };
  // postgres.js calls onnotify and onclose but leaves them out of its types.
  const options = {
    ...target.options,
    max: 1,
    max_lifetime: null,
    onnotify: (channel: string) => channel === CHANNEL && onEvent(),
    onclose: relisten,
  };
  const sql = postgres(target.url, options);
  try {
    await sql`LISTEN hls_events`;
  } catch (error) {
    stopped = true;
    await sql.end({ timeout: 0 });
    throw error;
  }
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await sql.end({ timeout: 1 });
  };
}
