import { closeSync, openSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { fail, ok, skip, type Check } from '../check.js';
import { checkHookBody, HOOK_SCRIPT } from '../hooks/body.js';
import { isObject, type Json } from '../hooks/json.js';
import { checkHookOutput } from '../hooks/output.js';
import { parseHooks, type ParsedHooks } from '../hooks/parse.js';
import { checkHookSignature } from '../hooks/signature.js';
import { readAtMost } from '../../read-bounded.js';

/** A relay hooks file is a few KiB; reading and parsing stop above this. */
const MAX_HOOKS_FILE_BYTES = 1024 * 1024;

/** The hooks file's checks, or one SKIP line without --hooks. */
export function checkHooksFile(file: string | undefined): Check[] {
  if (file === undefined) return [skip('hooks file', 'no --hooks FILE given (e.g. --hooks /etc/webhook/hooks.json)')];
  const path = resolve(file);
  let parsed: ParsedHooks;
  try {
    const text = readHooksText(path);
    if (text === null)
      return [
        fail(
          'hooks file',
          `${path}: larger than ${MAX_HOOKS_FILE_BYTES / 1024 / 1024} MiB; a relay hooks file is a few KiB`,
        ),
      ];
    parsed = parseHooks(text, /\.ya?ml$/i.test(extname(path)));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    return [fail('hooks file', `${path}: ${reason}`)];
  }
  if (!Array.isArray(parsed.hooks)) return [fail('hooks file', `${path}: expected a list of hooks at the top level`)];
  const hooks = parsed.hooks.filter((hook): hook is Json => isObject(hook));
  const chosen = hlsHooks(hooks);
  const ids = hooks.map((hook, index) => hookId(hook, index));
  if (chosen.length === 0) {
    return [
      fail(
        'hooks file',
        hooks.length === 0
          ? `${path}: no hooks`
          : `${path}: none of its ${hooks.length} hooks (${ids.join(', ')}) runs ${HOOK_SCRIPT}`,
      ),
    ];
  }
  const templates = parsed.templates.length
    ? `; ${parsed.templates.length} template expression${parsed.templates.length === 1 ? '' : 's'} (the relay needs -template)`
    : '';
  const checking = chosen.map((hook) => hookId(hook, hooks.indexOf(hook))).join(', ');
  return [
    ok('hooks file', `${path}: ${hooks.length} hook${hooks.length === 1 ? '' : 's'}, checking ${checking}${templates}`),
    ...chosen.flatMap((hook) => {
      const id = hookId(hook, hooks.indexOf(hook));
      return [checkHookBody(id, hook), checkHookOutput(id, hook), checkHookSignature(id, hook, parsed.templates)];
    }),
  ];
}

function readHooksText(path: string): string | null {
  const fd = openSync(path, 'r');
  try {
    return readAtMost(fd, MAX_HOOKS_FILE_BYTES)?.toString('utf8') ?? null;
  } finally {
    closeSync(fd);
  }
}

/** Hooks that run hls: execute-command ending in handle-github-event.sh (or hls), else the only hook. */
function hlsHooks(hooks: Json[]): Json[] {
  const running = hooks.filter((hook) => {
    const command = hook['execute-command'];
    return typeof command === 'string' && [HOOK_SCRIPT, 'hls'].includes(basename(command.trim()));
  });
  return running.length > 0 || hooks.length !== 1 ? running : hooks;
}

const hookId = (hook: Json, index: number): string =>
  typeof hook.id === 'string' && hook.id ? hook.id : `#${index + 1}`;
