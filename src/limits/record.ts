import type { Logger } from '../log.js';

/**
 * Writes rate-limit state after a request was sent: a failure (a locked or unreachable database) is
 * logged, never thrown, because failing a request that reached the API could make its caller send it again.
 */
export async function recordBestEffort(log: Logger, api: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    log.warn(`could not record ${api} rate-limit state`, { error: (error as Error).message });
  }
}
