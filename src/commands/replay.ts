import { CliError, EXIT } from '../exit-codes.js';
import type { EventStatus, ReplayCandidate } from '../store/types.js';
import { commandContext, withStore, type GlobalOptions } from './command-context.js';
import { printJson, printLines } from './format.js';

export interface ReplayFlags extends GlobalOptions {
  status?: EventStatus;
  since?: number;
  repo?: string;
  event?: string;
  dryRun?: boolean;
  json?: boolean;
}

/**
 * `hls replay [ID|DELIVERY …]`: re-queues events with fresh attempts. Without references it takes the
 * failed ones (or --status); with references it takes exactly those, and an unknown one is an error.
 */
export async function runReplay(refs: string[], flags: ReplayFlags): Promise<number> {
  return withStore(commandContext(flags).database, async (store) => {
    const ids: number[] = [];
    for (const ref of refs) {
      const event = await store.queue.find(ref);
      if (!event) throw new CliError(`no event with id or delivery "${ref}"`, EXIT.NO_INPUT);
      if (event.status === 'processing') {
        throw new CliError(
          `event ${event.id} is being processed by ${event.locked_by}; replay it once it has finished`,
          EXIT.TEMP_FAIL,
        );
      }
      ids.push(event.id);
    }
    const candidates = await store.queue.selectForReplay({
      ids,
      status: flags.status ?? (refs.length === 0 ? 'failed' : undefined),
      since: flags.since === undefined ? undefined : store.clock() - flags.since,
      repository: flags.repo,
      eventType: flags.event,
    });
    const replayed = flags.dryRun ? 0 : await store.queue.requeue(candidates.map((c) => c.id));
    if (flags.json) {
      printJson({ dry_run: Boolean(flags.dryRun), replayed, events: candidates });
    } else {
      const verb = flags.dryRun ? 'would replay' : 'replayed';
      printLines([
        ...candidates.map((c) => `${verb} ${describe(c)}`),
        flags.dryRun ? `${candidates.length} event(s) would be re-queued (dry run)` : `${replayed} event(s) re-queued`,
      ]);
    }
    return EXIT.OK;
  });
}

function describe(c: ReplayCandidate): string {
  const name = c.action ? `${c.event_type}.${c.action}` : c.event_type;
  const previous = c.error_message
    ? ` (${c.status}: ${c.error_class ?? 'error'}: ${c.error_message})`
    : ` (${c.status})`;
  return `${c.id} ${c.delivery_id} ${name} ${c.repository ?? '-'}${previous}`;
}
