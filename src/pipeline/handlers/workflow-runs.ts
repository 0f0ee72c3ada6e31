import * as z from 'zod';
import { failedJobLogs } from '../github-fetch.js';
import type { TriageSpec } from '../triage.js';
import { eventPayload, githubNumber, numbered } from './payload-shapes.js';

interface WorkflowRun {
  id: number;
  name?: string;
  head_branch?: string;
  conclusion?: string | null;
  html_url?: string;
  pull_requests?: { number: number }[];
}

const EXPLAINED = ['failure', 'timed_out'];

/** workflow_run: completed with failure or timed_out, on a pull request: explain the failing jobs. */
export const workflowRuns: TriageSpec = {
  defaultActions: ['completed'],
  payload: eventPayload({
    workflow_run: z.looseObject({ id: githubNumber, pull_requests: z.array(numbered).optional() }),
  }),
  subject(payload) {
    const run = payload.workflow_run as WorkflowRun | undefined;
    const pull = run?.pull_requests?.[0];
    if (!run || !pull) return undefined;
    return {
      kind: 'pull request',
      number: pull.number,
      title: `${run.name ?? 'workflow'} on ${run.head_branch ?? '?'}: ${run.conclusion ?? '?'}`,
      body: '',
      author: (payload.sender as { login?: string } | undefined)?.login ?? 'unknown',
      url: run.html_url ?? '',
      labels: [],
      draft: false,
      state: 'open',
      updatedAt: null,
    };
  },
  writtenText: () => null,
  relevance(payload) {
    const run = payload.workflow_run as WorkflowRun | undefined;
    if (!EXPLAINED.includes(run?.conclusion ?? '')) return `workflow run concluded ${run?.conclusion ?? 'unknown'}`;
    if (!run?.pull_requests?.length) return 'workflow run is not on a pull request';
    return null;
  },
  async fetchVariables({ github, repository, payload, config }) {
    const run = payload.workflow_run as WorkflowRun;
    return {
      run: { name: run.name, branch: run.head_branch, conclusion: run.conclusion, url: run.html_url },
      failed_jobs: github ? await failedJobLogs(github, repository, run.id, config.filters.log_chars) : [],
    };
  },
};
