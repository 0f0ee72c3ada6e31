import type { TriageSpec } from '../triage.js';
import { eventPayload } from './payload-shapes.js';

/** release: published: a review of the release notes, recorded (a release has no thread to comment on). */
export const releases: TriageSpec = {
  defaultActions: ['published'],
  payload: eventPayload({}),
  threadless: true,
  subject(payload) {
    const release = payload.release as
      | {
          id?: number;
          tag_name?: string;
          name?: string | null;
          body?: string | null;
          html_url?: string;
          author?: { login?: string };
        }
      | undefined;
    if (!release) return undefined;
    return {
      kind: 'release',
      number: 0,
      title: release.name || release.tag_name || '',
      body: release.body ?? '',
      author: release.author?.login ?? 'unknown',
      url: release.html_url ?? '',
      labels: [],
      draft: false,
      state: 'open',
      updatedAt: null,
    };
  },
};
