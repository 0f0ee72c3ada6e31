import { fail, ok, type Check } from '../check.js';
import type { Json } from './json.js';

/** Without the command's output in the response, the relay answers before hls queue has stored anything. */
export function checkHookOutput(id: string, hook: Json): Check {
  const name = `hook ${id} output`;
  if (hook['include-command-output-in-response'] !== true) {
    return fail(
      name,
      'include-command-output-in-response is not true: the relay answers GitHub before hls queue has stored the ' +
        'event, so a failed queue is never seen and never redelivered; set it to true',
    );
  }
  const onError =
    hook['include-command-output-in-response-on-error'] === true
      ? "a failed queue becomes HTTP 500 with hls's error line"
      : 'a failed queue becomes HTTP 500 (set include-command-output-in-response-on-error: true to show why)';
  return ok(name, `include-command-output-in-response: the relay waits for hls queue; ${onError}`);
}
