import { hostname, userInfo } from 'node:os';
import { EXIT } from '../exit-codes.js';
import { keyId, pauseKind, scopeKeySha256 } from '../metrics/api-limits.js';
import type { ResumedPause } from '../store/types.js';
import { commandContext, withStore, type GlobalOptions } from './command-context.js';
import { isoTime, printJson, printLines } from './format.js';

export interface ResumeFlags extends GlobalOptions {
  note?: string;
  dryRun?: boolean;
  json?: boolean;
}

/**
 * `hls resume KIND`: lifts a rate-limit pause or the spend-limit stop before it ends (e.g. once the
 * Anthropic spend limit was raised), records it in api_pause_history, and makes the events it parked
 * due now. KIND is github, anthropic, anthropic_spend or all.
 */
export async function runResume(kind: string, flags: ResumeFlags): Promise<number> {
  const resumed = await withStore(commandContext(flags).database, (store) =>
    store.limits.resumePauses({
      select: (pause) => kind === 'all' || pauseKind(pause.scope) === kind,
      by: operator(),
      note: flags.note ?? null,
      dryRun: Boolean(flags.dryRun),
    }),
  );
  if (flags.json) {
    printJson({ dry_run: Boolean(flags.dryRun), resumed: resumed.map(resumedReport) });
  } else if (resumed.length === 0) {
    printLines([`no ${kind === 'all' ? '' : `${kind} `}pause in force: nothing to resume`]);
  } else {
    const verb = flags.dryRun ? 'would resume' : 'resumed';
    printLines(
      resumed.map(
        (r) =>
          `${verb} ${pauseKind(r.scope)} (key ${keyId(scopeKeySha256(r.scope))}, "${r.reason}", until ${isoTime(r.until_at)}): ` +
          `${r.events_resumed} waiting event(s) ${flags.dryRun ? 'would be due' : 'due'} now`,
      ),
    );
  }
  return EXIT.OK;
}

export function resumedReport(r: ResumedPause) {
  return {
    kind: pauseKind(r.scope),
    key: keyId(scopeKeySha256(r.scope)),
    reason: r.reason,
    started_at: isoTime(r.started_at),
    until: isoTime(r.until_at),
    hits: r.hits,
    resumed_at: isoTime(r.resumed_at),
    resumed_by: r.resumed_by,
    note: r.note,
    events_resumed: r.events_resumed,
  };
}

/** Who ran the command, for the history: user@host. */
function operator(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`;
  }
  return `${user}@${hostname()}`;
}
