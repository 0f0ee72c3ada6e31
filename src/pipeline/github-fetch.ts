import type { GitHub } from '../clients/github.js';

/** Changed files and a bounded diff of a pull request. */
export interface PullRequestChanges {
  files: { filename: string; status: string; additions: number; deletions: number }[];
  diff: string;
  /** "diff" (the whole diff, maybe cut) or "files" (per-file patches: GitHub refused the diff as too large). */
  source: 'diff' | 'files';
  truncated: boolean;
}

const MAX_FILES = 300;

function split(repository: string): { owner: string; repo: string } {
  const [owner, repo] = repository.split('/') as [string, string];
  return { owner, repo };
}

function clip(text: string, maxChars: number): { text: string; truncated: boolean } {
  return text.length > maxChars ? { text: text.slice(0, maxChars), truncated: true } : { text, truncated: false };
}

/** The diff media type fails with 406 above 300 files or 20,000 lines: then the files' own patches. */
export async function pullRequestChanges(
  github: GitHub,
  repository: string,
  number: number,
  maxChars: number,
): Promise<PullRequestChanges> {
  const { owner, repo } = split(repository);
  const listed = await github.paginate(github.pulls.listFiles, { owner, repo, pull_number: number, per_page: 100 });
  const files = listed.slice(0, MAX_FILES);
  let whole: string | undefined;
  try {
    const { data } = await github.pulls.get({ owner, repo, pull_number: number, mediaType: { format: 'diff' } });
    whole = data as unknown as string;
  } catch (error) {
    if ((error as { status?: number }).status !== 406) throw error;
  }
  const source = whole === undefined ? 'files' : 'diff';
  const text =
    whole ?? files.map((file) => `--- ${file.filename}\n${file.patch ?? '(no patch: binary or too large)'}`).join('\n');
  const clipped = clip(text, maxChars);
  return {
    files: files.map(({ filename, status, additions, deletions }) => ({ filename, status, additions, deletions })),
    diff: clipped.text,
    source,
    truncated: clipped.truncated || listed.length > MAX_FILES,
  };
}

export interface FailedJob {
  name: string;
  conclusion: string;
  log_tail: string;
}

const FAILED = new Set(['failure', 'timed_out']);
const MAX_JOBS = 3;

/** The failing jobs of a run with the end of each one's log, sharing `maxChars` between them. */
export async function failedJobLogs(
  github: GitHub,
  repository: string,
  runId: number,
  maxChars: number,
): Promise<FailedJob[]> {
  const { owner, repo } = split(repository);
  const jobs = await github.paginate(github.actions.listJobsForWorkflowRun, {
    owner,
    repo,
    run_id: runId,
    per_page: 100,
  });
  const failing = jobs.filter((job) => FAILED.has(job.conclusion ?? '')).slice(0, MAX_JOBS);
  const share = Math.floor(maxChars / Math.max(1, failing.length));
  const result: FailedJob[] = [];
  for (const job of failing) {
    const { data } = await github.actions.downloadJobLogsForWorkflowRun({ owner, repo, job_id: job.id });
    const log = String(data);
    result.push({
      name: job.name,
      conclusion: job.conclusion ?? '',
      log_tail: log.length > share ? log.slice(-share) : log,
    });
  }
  return result;
}
