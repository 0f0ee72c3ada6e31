/** GitHub rejects comment bodies above this many characters (422). */
export const MAX_COMMENT_CHARS = 65_536;

const MARKER_PREFIX = '<!-- hls:thread ';

/** The hidden line that identifies hls's one comment on a thread. */
export function threadMarker(threadKey: string): string {
  return `${MARKER_PREFIX}${threadKey} -->`;
}

export function hasThreadMarker(body: string, threadKey: string): boolean {
  return body.includes(threadMarker(threadKey));
}

/**
 * Makes model text safe to post: @mentions and references to other repositories' issues are put in
 * code spans (GitHub does not link or notify inside them), anything imitating our hidden marker is
 * removed, and the result leaves room for the marker within GitHub's size limit.
 */
export function sanitizeModelText(text: string, reserve: number): string {
  const withoutMarkers = text.replace(/<!--\s*hls:[\s\S]*?(-->|$)/gi, '');
  const neutralized = withoutMarkers
    .replace(/(^|[^\w`/])(@[A-Za-z0-9][A-Za-z0-9-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)?)/g, '$1`$2`')
    .replace(/(^|[^\w`/])([A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+#\d+)/g, '$1`$2`')
    .replace(/(^|[^\w`/])(https?:\/\/github\.com\/[^\s)]+\/(?:issues|pull)\/\d+)/g, '$1`$2`');
  const room = MAX_COMMENT_CHARS - reserve;
  return neutralized.length > room ? `${neutralized.slice(0, room - 1)}…` : neutralized;
}
