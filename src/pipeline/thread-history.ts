import type { Store } from '../store/store.js';
import type { EventRow } from '../store/types.js';
import { capText, NAME_CHARS } from './cap.js';

export interface HistoryEntry {
  when: string;
  who: string;
  what: string;
  /** What the person wrote (comment, body, review), for the prompt's data block. */
  text: string;
  /** hls's earlier assessment of that event, e.g. "high/moderate/parser". */
  assessment: string | null;
}

const MAX_EVENTS = 30;

/** The thread's earlier events and analyses, newest first, within `maxChars` of text. */
export async function threadHistory(store: Store, event: EventRow, maxChars: number): Promise<HistoryEntry[]> {
  if (!event.thread_key) return [];
  const entries: HistoryEntry[] = [];
  let budget = maxChars;
  for (const row of await store.queue.threadHistory(event.thread_key, event.id, MAX_EVENTS)) {
    if (budget <= 0) break;
    const text = writtenText(row.event_type, row.payload);
    const clipped = capText(text, budget);
    budget -= clipped.length;
    entries.push({
      when: new Date(row.created_at).toISOString().slice(0, 16).replace('T', ' '),
      who: capText(row.sender_login ?? 'unknown', NAME_CHARS),
      what: row.action ? `${row.event_type}.${row.action}` : row.event_type,
      text: clipped,
      assessment: assessmentOf(row.analysis_json),
    });
  }
  return entries;
}

function writtenText(eventType: string, payload: Buffer | null): string {
  if (!payload) return '';
  let body: Record<string, { body?: unknown } | undefined>;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return '';
  }
  const source =
    eventType === 'issue_comment' || eventType === 'pull_request_review_comment'
      ? body.comment
      : eventType === 'pull_request_review'
        ? body.review
        : (body.issue ?? body.pull_request);
  return typeof source?.body === 'string' ? source.body : '';
}

function assessmentOf(analysisJson: string | null): string | null {
  if (!analysisJson) return null;
  const triage = JSON.parse(analysisJson) as { priority: string; difficulty: string; component: string };
  return `${triage.priority}/${triage.difficulty}/${triage.component}`;
}
