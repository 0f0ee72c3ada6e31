import { EVENT_STATUSES, type EventStatus, type GroupCounts, type StatusCounts } from './types.js';

function emptyCounts(): StatusCounts {
  return {
    ...(Object.fromEntries(EVENT_STATUSES.map((status) => [status, 0])) as Record<EventStatus, number>),
    total: 0,
  };
}

export function countByStatus(rows: { status: EventStatus; n: number }[]): StatusCounts {
  const counts = emptyCounts();
  for (const row of rows) {
    counts[row.status] += row.n;
    counts.total += row.n;
  }
  return counts;
}

export function groupCounts(rows: { name: string; status: EventStatus; n: number }[]): GroupCounts[] {
  const groups = new Map<string, GroupCounts>();
  for (const row of rows) {
    const group = groups.get(row.name) ?? { name: row.name, ...emptyCounts() };
    group[row.status] += row.n;
    group.total += row.n;
    groups.set(row.name, group);
  }
  return [...groups.values()].sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
}

/** The UTC date of an epoch-ms time, as the budget and daily stats count days. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Epoch ms of the UTC midnight that starts a window of `days` UTC days ending today. */
export function firstDayOfWindow(now: number, days: number): number {
  return Date.parse(utcDay(now)) - (days - 1) * 86_400_000;
}
