import type { Pause, ResumedPause, ResumeRequest } from './types.js';

/**
 * The events a kind of pause parks, as a SQL condition on wait_reason (which starts as the gate that
 * deferred them wrote it). The same text on both backends.
 */
export const WAITING_FOR: Record<string, string> = {
  github: `wait_reason LIKE 'GitHub %'`,
  anthropic: `wait_reason LIKE 'Anthropic %' AND wait_reason NOT LIKE 'Anthropic spend limit%'`,
  'anthropic-spend': `wait_reason LIKE 'Anthropic spend limit%'`,
};

export const scopeKind = (scope: string): string => scope.slice(0, scope.indexOf(':'));

/** The wait_reason condition for a pause's scope (false for a scope no gate writes). */
export function waitingCondition(scope: string): string {
  return WAITING_FOR[scopeKind(scope)] ?? '1 = 0';
}

/** The api_pause_history row of a pause lifted by `request` at `now`, with the events it parked. */
export function liftedPause(pause: Pause, request: ResumeRequest, now: number, eventsResumed: number): ResumedPause {
  const { scope, reason, started_at, until_at, hits } = pause;
  return {
    scope,
    reason,
    started_at,
    until_at,
    hits,
    resumed_at: now,
    resumed_by: request.by,
    note: request.note,
    events_resumed: eventsResumed,
  };
}
