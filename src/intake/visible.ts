/** Control characters (C0, DEL, C1) and Unicode line breaks: nothing request data may put on our one output line. */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Request data made safe to echo on the relay's one-line answer: control characters become "?". */
export function visible(text: string, maxLength = Infinity): string {
  const cleaned = text.replace(INVISIBLE, '?');
  return cleaned.length > maxLength ? `${cleaned.slice(0, maxLength)}…` : cleaned;
}
