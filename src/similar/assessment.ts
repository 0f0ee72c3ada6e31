import type { ThreadAssessment } from '../store/types.js';

/** A thread's latest valid analysis as the store reads it: the thread's key and the triage JSON. */
export interface AnalysisRow {
  thread_key: string;
  analysis_json: string;
  created_at: number;
}

/** The assessment in an analysis row; undefined when its JSON lacks what a related thread shows. */
export function parseAssessment(row: AnalysisRow): ThreadAssessment | undefined {
  const number = Number(row.thread_key.slice(row.thread_key.lastIndexOf('#') + 1));
  let triage: Record<string, unknown>;
  try {
    triage = JSON.parse(row.analysis_json) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { priority, difficulty, component, confidence } = triage ?? {};
  if (typeof priority !== 'string' || typeof difficulty !== 'string' || typeof component !== 'string') return undefined;
  if (typeof confidence !== 'number' || !Number.isInteger(number)) return undefined;
  return { number, priority, difficulty, component, confidence, analysed_at: Number(row.created_at) };
}

/** The thread keys (owner/repo#N) of these numbers of a repository. */
export function threadKeys(repository: string, numbers: readonly number[]): string[] {
  return numbers.map((number) => `${repository}#${number}`);
}
