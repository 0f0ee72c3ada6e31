import * as z from 'zod';

/** What the model must return; `output_config.format` asks for it and the code checks it again. */
export const TRIAGE_JSON_SCHEMA = {
  type: 'object',
  properties: {
    priority: { type: 'string', enum: ['high', 'medium', 'low'] },
    difficulty: { type: 'string', enum: ['easy', 'moderate', 'complex'] },
    component: { type: 'string' },
    labels: { type: 'array', items: { type: 'string' } },
    comment: { type: 'string' },
    confidence: { type: 'number' },
    related: { type: 'array', items: { type: 'integer' } },
    duplicate_of: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
  },
  required: ['priority', 'difficulty', 'component', 'labels', 'comment', 'confidence', 'related', 'duplicate_of'],
  additionalProperties: false,
} as const;

export const triageSchema = z.strictObject({
  priority: z.enum(['high', 'medium', 'low']),
  difficulty: z.enum(['easy', 'moderate', 'complex']),
  component: z.string().max(100),
  labels: z.array(z.string().max(50)).max(20),
  comment: z.string().min(1),
  confidence: z.number().min(0).max(1),
  /**
   * Numbers of the offered threads that are related (anything else is dropped before the analysis is
   * recorded: keepOffered); an analysis recorded before related-issue search has none.
   */
  related: z.array(z.number()).default([]),
  /** The offered thread this one duplicates, if any. */
  duplicate_of: z.number().nullable().default(null),
});

export type Triage = z.infer<typeof triageSchema>;

/** Parses and validates the model's text; the error message says which field was wrong. */
export function parseTriage(text: string): { ok: true; triage: Triage } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the model did not return JSON' };
  }
  const parsed = triageSchema.safeParse(value);
  if (parsed.success) return { ok: true, triage: parsed.data };
  const issue = parsed.error.issues[0]!;
  return {
    ok: false,
    reason: `the model's answer failed validation at ${issue.path.join('.') || '(root)'}: ${issue.message}`,
  };
}
