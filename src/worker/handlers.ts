import { pathToFileURL } from 'node:url';
import type { LoadedConfig } from '../config/load.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { EventRow } from '../store/types.js';

export interface HandlerContext {
  event: EventRow;
  payload: Record<string, unknown>;
  /** Aborted when the lease is lost or the worker's shutdown grace period ends. */
  signal: AbortSignal;
  log: Logger;
  config: LoadedConfig;
  /** The queue's store (SQLite or PostgreSQL): every database access goes through it. */
  store: Store;
  dryRun: boolean;
}

/**
 * Return nothing to complete the event, `{ skipped: reason }` to record that it was not worth doing, or
 * `{ deferred: { until, reason } }` to put it back until a later time without counting the attempt.
 * A deferred event comes back with `event.wait_reason` still set, so a handler can tell.
 */
export type HandlerResult = void | { skipped: string } | { deferred: { until: number; reason: string } };
export type Handler = (context: HandlerContext) => Promise<HandlerResult>;

/** Maps an event type (X-GitHub-Event) to the code that processes it. */
export class HandlerRegistry {
  private readonly handlers = new Map<string, Handler>();

  register(eventType: string, handler: Handler): void {
    this.handlers.set(eventType, handler);
  }

  get(eventType: string): Handler | undefined {
    return this.handlers.get(eventType);
  }

  /** Loads the operator's `handlers:` modules (default export, or a named `handle` function). */
  async registerModules(modules: Partial<Record<string, string>>): Promise<void> {
    for (const [eventType, path] of Object.entries(modules)) {
      if (!path) continue;
      let loaded: { default?: unknown; handle?: unknown };
      try {
        loaded = await import(pathToFileURL(path).href);
      } catch (error) {
        throw new CliError(`handlers.${eventType}: cannot load ${path}: ${(error as Error).message}`, EXIT.CONFIG);
      }
      const handler = typeof loaded.default === 'function' ? loaded.default : loaded.handle;
      if (typeof handler !== 'function') {
        throw new CliError(`handlers.${eventType}: ${path} exports no default function or "handle"`, EXIT.CONFIG);
      }
      this.register(eventType, handler as Handler);
    }
  }
}
