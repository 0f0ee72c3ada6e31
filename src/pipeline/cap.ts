/** The most characters of one user-written text in a prompt: bodies, comments, reviews, release notes, commit messages. */
export const TEXT_CHARS = 20_000;
/** The most characters of any other string of a payload: titles, names, branch and label names, logins, URLs. */
export const NAME_CHARS = 1_000;
/** The most items of any list of a payload (GitHub allows 100 labels on an issue). */
export const MAX_ITEMS = 100;

/** Keys whose strings are texts people write; every other string is capped as a name. */
const TEXT_KEYS = new Set(['body', 'message', 'description', 'from']);

/** The one way hls cuts text for a prompt: the first `max` characters and a note of how much was cut. */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  // Never leave half of a surrogate pair at the cut.
  const end = max > 0 && /[\ud800-\udbff]/.test(text[max - 1]!) ? max - 1 : max;
  return `${text.slice(0, end)}\n[… ${text.length - end} more characters cut]`;
}

/**
 * A copy of a parsed payload with every string capped (TEXT_CHARS under TEXT_KEYS, NAME_CHARS elsewhere)
 * and every list cut to MAX_ITEMS, so that no field, whoever reads it, can carry megabytes into a prompt.
 * `hls queue` refused bodies nested deeper than 64 levels, so the recursion is shallow.
 */
export function capPayload(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return capText(value, TEXT_KEYS.has(key) ? TEXT_CHARS : NAME_CHARS);
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((item) => capPayload(item, key));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([name, field]) => [name, capPayload(field, name)]));
}
