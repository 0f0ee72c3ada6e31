import type * as z from 'zod';
import { CliError, EXIT } from '../exit-codes.js';
import { visible } from '../intake/visible.js';
import { capPayload } from './cap.js';

type Payload = Record<string, unknown>;

/** A payload that does not have the shape GitHub sends: retrying cannot fix it, so the event fails at once. */
export class InvalidPayloadError extends CliError {
  readonly retryable = false;
  /** Recorded as the error class `permanent:invalid_payload`. */
  readonly detail = 'invalid_payload';

  constructor(message: string) {
    super(message, EXIT.DATA);
  }
}

/**
 * The payload as handlers and templates read it: checked against the event's schema (the fields that
 * build GitHub paths or filter the event), then with every string and list capped.
 */
export function triagePayload(schema: z.ZodType, raw: Payload): Payload {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.map(String);
    const got = path.reduce<unknown>((value, key) => (value as Payload | undefined)?.[key], raw);
    throw new InvalidPayloadError(
      `invalid payload: ${path.join('.') || '(top level)'}: ${issue.message} (got ${visible(String(JSON.stringify(got)), 40)})`,
    );
  }
  return capPayload(raw) as Payload;
}
