export interface FillerIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
}

export interface FillerOptions {
  seed: number;
  count: number;
  startNumber?: number;
}

export function fillerIssueStream(options: FillerOptions): Generator<FillerIssue>;
export function fillerIssues(options: FillerOptions): FillerIssue[];
