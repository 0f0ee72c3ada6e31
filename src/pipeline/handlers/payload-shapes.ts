import * as z from 'zod';
import { GITHUB_NAME, isGitHubNumber, isRepositoryName } from '../../intake/fields.js';

// Pieces of the handlers' lenient payload schemas: only the fields hls reads to build GitHub requests or
// to filter an event are checked (some of GitHub's own examples fail its published schema); the rest passes.

/** Issue and pull request numbers, run ids. */
export const githubNumber = z.custom<number>(isGitHubNumber, 'expected a positive safe integer');

/** An issue or pull request object: its number goes into API paths. */
export const numbered = z.looseObject({ number: githubNumber });

/** The fields every triaged event carries, plus the event's own. */
export function eventPayload(shape: Record<string, z.ZodType>): z.ZodType {
  return z.looseObject({
    action: z.string().regex(GITHUB_NAME, 'expected a GitHub action name'),
    repository: z.looseObject({ full_name: z.custom<string>(isRepositoryName, 'expected "owner/repo"') }),
    sender: z.looseObject({ login: z.string().max(100) }).optional(),
    ...shape,
  });
}
