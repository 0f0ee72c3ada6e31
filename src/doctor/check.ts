/** `warn` is reported but, unlike `fail`, does not make doctor exit 1. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
}

export const ok = (name: string, detail: string): Check => ({ name, status: 'ok', detail });
export const warn = (name: string, detail: string): Check => ({ name, status: 'warn', detail });
export const fail = (name: string, detail: string): Check => ({ name, status: 'fail', detail });
export const skip = (name: string, detail: string): Check => ({ name, status: 'skip', detail });

/** A check that throws unexpectedly becomes a FAIL line instead of ending the command. */
export async function guarded(name: string, run: () => Check[] | Promise<Check[]>): Promise<Check[]> {
  try {
    return await run();
  } catch (error) {
    return [fail(name, `unexpected error: ${(error as Error).message}`)];
  }
}
