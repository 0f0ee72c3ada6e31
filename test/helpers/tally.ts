// What the end-to-end suites (chaos, two hosts) count after a run: model calls per issue, bot comments per
// thread in the GitHub simulator, and the busiest window of GitHub writes.
import type { MessagesRequest } from '../../src/simulators/anthropic.js';
import type { FakeGitHub } from '../../src/simulators/github.js';

/** The issue of `repo` a rendered prompt is about (every issue prompt shows the payload's html_url), -1 if none. */
export function issueNumberOf(request: MessagesRequest, repo: string): number {
  const content = request.messages[0]?.content;
  const text = typeof content === 'string' ? content : JSON.stringify(content);
  const match = new RegExp(`github\\.com/${repo}/issues/(\\d+)\\b`).exec(text);
  return match ? Number(match[1]) : -1;
}

export interface ThreadComments {
  /** Bot comments on all threads. */
  comments: number;
  /** Bot comments beyond the first of their thread. */
  duplicates: number;
  /** The most bot comments on one thread. */
  maxPerThread: number;
  /** Threads without exactly one bot comment carrying its marker, or with a comment by someone else. */
  wrong: string[];
}

/** The `bot` comments on every issue of `repo` in the simulator: each thread should have exactly one. */
export function threadComments(github: FakeGitHub, repo: string, bot: string): ThreadComments {
  const tally: ThreadComments = { comments: 0, duplicates: 0, maxPerThread: 0, wrong: [] };
  for (const [number, issue] of github.repo(repo).issues) {
    const ours = issue.comments.filter((comment) => comment.user === bot);
    tally.comments += ours.length;
    tally.duplicates += Math.max(0, ours.length - 1);
    tally.maxPerThread = Math.max(tally.maxPerThread, ours.length);
    if (ours.length !== 1 || !ours[0]!.body.includes(`<!-- hls:thread ${repo}#${number} -->`))
      tally.wrong.push(`#${number}: ${ours.length} bot comments`);
    if (issue.comments.length !== ours.length) tally.wrong.push(`#${number}: a comment not by ${bot}`);
  }
  return tally;
}

/** The most of `times` (ms, any order) that fall in any `ms`-long window. */
export function busiestWindow(times: number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let busiest = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= ms) start++;
    busiest = Math.max(busiest, end - start + 1);
  }
  return busiest;
}
