import { basename } from 'node:path';
import { fail, ok, type Check } from '../check.js';
import { listOf, type Json } from './json.js';

/** The script that runs hls queue in the relay's examples. */
export const HOOK_SCRIPT = 'handle-github-event.sh';

/** The body must reach hls byte for byte: raw-request-body, never entire-payload (re-serialised). */
export function checkHookBody(id: string, hook: Json): Check {
  const name = `hook ${id} body`;
  const files = listOf(hook['pass-file-to-command']);
  if (files.some((entry) => entry.source === 'entire-payload')) {
    return fail(
      name,
      'pass-file-to-command uses entire-payload, which webhook re-serialises: the bytes differ from what GitHub ' +
        'signed, so signatures fail and the stored body is not the delivery; use ' +
        '{"source": "raw-request-body", "envname": "HLS_BODY_FILE"}',
    );
  }
  const raw = files.find((entry) => entry.source === 'raw-request-body');
  if (!raw) {
    return fail(
      name,
      'no pass-file-to-command entry with source raw-request-body: add {"source": "raw-request-body", "envname": "HLS_BODY_FILE"}',
    );
  }
  const command = typeof hook['execute-command'] === 'string' ? basename(hook['execute-command']) : '';
  if (command === HOOK_SCRIPT && raw.envname !== 'HLS_BODY_FILE') {
    return fail(
      name,
      `raw-request-body is passed as ${typeof raw.envname === 'string' ? raw.envname : "webhook's default name"}, ` +
        `but ${HOOK_SCRIPT} runs hls queue, which reads HLS_BODY_FILE: set "envname": "HLS_BODY_FILE"`,
    );
  }
  return ok(name, `raw-request-body as ${typeof raw.envname === 'string' ? raw.envname : "webhook's default name"}`);
}
