import type { Logger } from '../log.js';

/**
 * Writes rate-limit state after a request was sent: a failure (a locked database) is logged, never
 * thrown, because failing a request that reached the API could make its caller send it again.
 */
export function recordBestEffort(log: Logger, api: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    log.warn(`could not record ${api} rate-limit state`, { error: (error as Error).message });
  }
}
