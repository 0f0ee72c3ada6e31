import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, readFileSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { anthropicKey, createAnthropic } from '../clients/anthropic.js';
import { createGitHub, githubToken } from '../clients/github.js';
import { CliError, EXIT } from '../exit-codes.js';
import { SCHEMA_VERSION } from '../store/migrate.js';
import { commandContext, type CommandContext, type GlobalOptions } from './context.js';
import { printJson, printLines } from './format.js';

export interface DoctorFlags extends GlobalOptions {
  hooks?: string;
  json?: boolean;
}

export type CheckStatus = 'ok' | 'fail' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
}

/** How long one network check may take (no retries: doctor reports what it sees). */
const NETWORK_TIMEOUT_MS = 15_000;

const ok = (name: string, detail: string): Check => ({ name, status: 'ok', detail });
const fail = (name: string, detail: string): Check => ({ name, status: 'fail', detail });
const skip = (name: string, detail: string): Check => ({ name, status: 'skip', detail });

/**
 * `hls doctor`: checks the config, the database file, the GitHub token, the Anthropic key and
 * (with --hooks) the relay's hooks file. One line per check; exit 1 when any check failed.
 * Secrets are never printed: every detail is scrubbed of the values it could contain.
 */
export async function runDoctor(flags: DoctorFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const checks: Check[] = [];
  const secrets = [env.GITHUB_TOKEN, env.ANTHROPIC_API_KEY, env.HLS_GITHUB_WEBHOOK_SECRET];
  const report = (...found: Check[]): void => {
    for (const check of found) {
      const safe = { ...check, detail: redact(check.detail, secrets) };
      checks.push(safe);
      if (!flags.json) printLines([formatCheck(safe)]);
    }
  };

  const { check: configCheck, context } = checkConfig(flags, env);
  if (context) {
    const { github, claude } = context.config;
    secrets.push(github.token, claude.api_key, github.webhook_secret);
  }
  report(configCheck);
  report(...(await guarded('database', () => checkDatabase(databasePath(flags, env, context)))));
  report(...(await guarded('github token', () => checkGitHub(context, env))));
  report(...(await guarded('anthropic key', () => checkAnthropic(context, env))));
  report(...(await guarded('hooks file', () => checkHooksFile(flags.hooks))));

  const allOk = checks.every((check) => check.status !== 'fail');
  if (flags.json) printJson({ ok: allOk, checks });
  return allOk ? EXIT.OK : EXIT.FAILURE;
}

export function formatCheck(check: Check): string {
  return `${check.status.toUpperCase().padEnd(4)} ${check.name}: ${check.detail}`;
}

/** Replaces every known secret value in a text: a last guard, as no check puts a secret in its detail. */
export function redact(text: string, secrets: (string | undefined)[]): string {
  let result = text;
  for (const secret of secrets) if (secret) result = result.split(secret).join('[redacted]');
  return result;
}

/** A check that throws unexpectedly becomes a FAIL line instead of ending the command. */
async function guarded(name: string, run: () => Check[] | Promise<Check[]>): Promise<Check[]> {
  try {
    return await run();
  } catch (error) {
    return [fail(name, `unexpected error: ${(error as Error).message}`)];
  }
}

// ---------- 1. config ----------

function checkConfig(flags: DoctorFlags, env: NodeJS.ProcessEnv): { check: Check; context?: CommandContext } {
  let context: CommandContext;
  try {
    context = commandContext(flags, env);
  } catch (error) {
    if (!(error instanceof CliError)) return { check: fail('config', `unexpected error: ${(error as Error).message}`) };
    return { check: fail('config', `${error.message.replace(/^config /, '')}`) };
  }
  const { config } = context;
  const source = config.source ?? 'built-in defaults, no --config or HLS_CONFIG';
  const repositories = `${config.repositories.length} repositor${config.repositories.length === 1 ? 'y' : 'ies'}`;
  const unset =
    config.unresolved.length > 0 ? `; not configured (variable unset): ${config.unresolved.join(', ')}` : '';
  return { check: ok('config', `${source} (${repositories})${unset}`), context };
}

function databasePath(
  flags: DoctorFlags,
  env: NodeJS.ProcessEnv,
  context: CommandContext | undefined,
): string | undefined {
  if (context) return resolve(context.dbPath);
  const path = flags.db ?? (env.HLS_DB || undefined);
  return path === undefined ? undefined : resolve(path);
}

// ---------- 2. database ----------

const DATABASE_CHECKS = ['database', 'database schema', 'database journal', 'database mode'] as const;

/** Exists and writable, then schema version, journal mode and file mode; never creates or migrates the file. */
export function checkDatabase(path: string | undefined): Check[] {
  if (path === undefined) {
    return DATABASE_CHECKS.map((name) => skip(name, 'the config did not load, and neither --db nor HLS_DB is set'));
  }
  const file = checkDatabaseFile(path);
  if (file.status !== 'ok') {
    return [file, ...DATABASE_CHECKS.slice(1).map((name) => skip(name, 'no usable database file'))];
  }
  // Stat before SQLite opens the file: a read-only open may create the -wal and -shm files.
  const modeCheck = checkDatabaseMode(path);
  let version: number;
  let journal: string;
  try {
    ({ version, journal } = readDatabaseHeader(path));
  } catch (error) {
    const code = (error as { code?: string }).code;
    const reason = `cannot read ${path}: ${code ? `${code} ` : ''}${(error as Error).message}`;
    return [
      file,
      fail('database schema', `${reason} (is it an hls database?)`),
      skip('database journal', reason),
      modeCheck,
    ];
  }
  return [file, checkSchemaVersion(version), checkJournalMode(path, journal, version), modeCheck];
}

function checkDatabaseFile(path: string): Check {
  const dir = dirname(path);
  if (!existsSync(path)) {
    const where = !existsSync(dir)
      ? `; its directory ${dir} does not exist either (install -d -o hls -g hls -m 0700 ${dir})`
      : !isWritable(dir)
        ? `; its directory ${dir} is not writable by uid ${uid()}, so it could not be created`
        : '';
    return fail(
      'database',
      `${path} does not exist${where}: hls queue and hls worker create it on first use; if events were ` +
        `already queued, point --db, HLS_DB or database.path at that file`,
    );
  }
  const stat = statSync(path);
  if (!stat.isFile()) return fail('database', `${path} is not a regular file: check --db, HLS_DB or database.path`);
  const notWritable = [dir, path, `${path}-wal`, `${path}-shm`].filter(
    (candidate, index) => (index < 2 || existsSync(candidate)) && !isWritable(candidate),
  );
  if (notWritable.length > 0) {
    return fail(
      'database',
      `not writable by uid ${uid()}: ${notWritable.join(', ')} (SQLite writes the file and creates -wal and -shm ` +
        `next to it): run doctor as the user the workers run as (sudo -u hls hls doctor), or give that user ` +
        `the directory and files (chown -R hls: ${dir})`,
    );
  }
  return ok('database', `${path} (${formatBytes(stat.size)}, writable)`);
}

/** The schema version and journal mode, read through a read-only connection (no migration). */
function readDatabaseHeader(path: string): { version: number; journal: string } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return {
      version: db.pragma('user_version', { simple: true }) as number,
      journal: String(db.pragma('journal_mode', { simple: true })).toLowerCase(),
    };
  } finally {
    db.close();
  }
}

export function checkSchemaVersion(version: number): Check {
  const name = 'database schema';
  if (version === SCHEMA_VERSION) return ok(name, `version ${version}`);
  if (version > SCHEMA_VERSION) {
    return fail(
      name,
      `version ${version} is newer than this hls supports (${SCHEMA_VERSION}): hls refuses to open it; upgrade hls ` +
        `(git pull && npm ci in its directory) or point --db at the right file`,
    );
  }
  if (version === 0) return ok(name, `empty: the schema (version ${SCHEMA_VERSION}) is created on next open`);
  return ok(name, `version ${version}: will be migrated to ${SCHEMA_VERSION} on next open`);
}

export function checkJournalMode(path: string, journal: string, version: number): Check {
  const name = 'database journal';
  if (journal === 'wal') return ok(name, 'wal');
  if (version < SCHEMA_VERSION) return ok(name, `${journal}: switched to wal on next open`);
  return fail(
    name,
    `journal_mode is ${journal}, not wal: hls queue and the workers would block each other; with the workers ` +
      `stopped, run: sqlite3 ${path} 'PRAGMA journal_mode=WAL'`,
  );
}

/** The file (and its -wal/-shm) must be 0600: it holds every payload. */
export function checkDatabaseMode(path: string): Check {
  const name = 'database mode';
  const files = [path, `${path}-wal`, `${path}-shm`].filter((file, index) => index === 0 || existsSync(file));
  const stats = new Map<string, Stats>(files.map((file) => [file, statSync(file)]));
  const open = files.filter((file) => (stats.get(file)!.mode & 0o077) !== 0);
  const main = stats.get(path)!;
  if (open.length === 0) return ok(name, `${octal(main.mode)}, owner uid ${main.uid}`);
  const modes = open.map((file) => `${basename(file)} ${octal(stats.get(file)!.mode)}`).join(', ');
  return fail(name, `${modes}: group or others may read the stored payloads; run: chmod 600 ${open.join(' ')}`);
}

const octal = (mode: number): string => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

function isWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const uid = (): string => String(process.getuid?.() ?? '?');

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

// ---------- 3. GitHub token ----------

/** GET /user (who the token is) and GET /rate_limit (what is left), without retries. */
export async function checkGitHub(context: CommandContext | undefined, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const name = 'github token';
  if (!context) return [skip(name, 'the config did not load')];
  const token = githubToken(context.config, env);
  if (!token) {
    return [
      skip(
        name,
        'no token (GITHUB_TOKEN or github.token): diffs, logs and labels are not fetched, and actions are only recorded',
      ),
    ];
  }
  // No throttling: its rate-limit waits could last until the limit resets; doctor reports the limit instead.
  const config = { ...context.config, github: { ...context.config.github, throttle: false } };
  const github = createGitHub(config, token, context.log, env);
  const base = publicUrl(context.config.github.api_url ?? (env.GITHUB_API_URL || 'https://api.github.com'));
  const request = { retries: 0, signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS) };
  try {
    const user = await github.rest.users.getAuthenticated({ request });
    const limits = await github.rest.rateLimit.get({ request });
    const core = limits.data.resources.core;
    const scopes = user.headers['x-oauth-scopes'];
    const who = `${user.data.login} (${user.data.type}${scopes ? `, scopes: ${scopes}` : ''}) on ${base}`;
    if (core.remaining === 0) {
      const reset = new Date(core.reset * 1000).toISOString();
      return [fail(name, `${who}: the core rate limit is exhausted (0/${core.limit}) until ${reset}`)];
    }
    return [ok(name, `${who}; rate limit ${core.remaining}/${core.limit} left`)];
  } catch (error) {
    return [fail(name, describeGitHubFailure(error, base))];
  }
}

function describeGitHubFailure(error: unknown, base: string): string {
  const e = error as {
    status?: number;
    request?: { method?: string; url?: string };
    response?: { data?: unknown };
  };
  if (e.response === undefined) {
    return `cannot reach GitHub at ${base}: ${rootCause(error)} (check github.api_url / GITHUB_API_URL and the network)`;
  }
  const data = (e.response.data ?? {}) as { message?: unknown };
  const message = typeof data.message === 'string' ? data.message : 'no message';
  const route = e.request?.url ? ` on ${e.request.method ?? 'GET'} ${new URL(e.request.url).pathname}` : '';
  const hint =
    e.status === 401
      ? 'the token is wrong, expired or revoked: set GITHUB_TOKEN (or github.token) to a valid token'
      : e.status === 403
        ? "the token is refused (rate limit or policy): check its permissions and GitHub's message"
        : 'check github.api_url / GITHUB_API_URL';
  return `GitHub ${e.status}${route}: ${message}; ${hint}`;
}

// ---------- 4. Anthropic key ----------

/** GET /v1/models with the key: cheap, authenticated, no tokens spent. */
export async function checkAnthropic(context: CommandContext | undefined, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const name = 'anthropic key';
  if (!context) return [skip(name, 'the config did not load')];
  const key = anthropicKey(context.config, env);
  if (!key) {
    return [
      skip(
        name,
        'no key (ANTHROPIC_API_KEY or claude.api_key): the worker renders and records prompts without sending them',
      ),
    ];
  }
  const client = createAnthropic(context.config, key, env);
  const base = publicUrl(client.baseURL);
  try {
    await client.models.list({ limit: 1 }, { maxRetries: 0, timeout: NETWORK_TIMEOUT_MS });
    return [ok(name, `accepted by ${base} (model ${context.config.claude.model})`)];
  } catch (error) {
    return [fail(name, describeAnthropicFailure(error, base))];
  }
}

function describeAnthropicFailure(error: unknown, base: string): string {
  const e = error as { status?: number; type?: string | null; apiMessage?: string | null };
  if (e.status === undefined) {
    return `cannot reach ${base}: ${rootCause(error)} (check claude.base_url / ANTHROPIC_BASE_URL and the network)`;
  }
  const what = `Anthropic ${e.status}${e.type ? ` ${e.type}` : ''}${e.apiMessage ? `: ${e.apiMessage}` : ''}`;
  const hint =
    e.status === 401
      ? 'the key is wrong or revoked: set ANTHROPIC_API_KEY (or claude.api_key) to a valid key'
      : e.status === 403
        ? 'the key may not use this API: check its workspace and permissions'
        : 'check claude.base_url / ANTHROPIC_BASE_URL and the Anthropic status page';
  return `${what}; ${hint}`;
}

/** The innermost message of an error chain: "connect ECONNREFUSED …" rather than "fetch failed". */
function rootCause(error: unknown): string {
  let current = error as { message?: string; cause?: unknown };
  while (current.cause instanceof Error) current = current.cause;
  return current.message || String(error);
}

/** An API base without credentials, query or fragment (a URL may carry a user:password). */
function publicUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/$/, '')}`;
  } catch {
    return '(invalid URL)';
  }
}

// ---------- 5. relay hooks file ----------

type Json = Record<string, unknown>;

const HOOK_SCRIPT = 'handle-github-event.sh';
const TEMPLATE = /__hls_template_(\d+)__/;

export interface ParsedHooks {
  hooks: unknown;
  /** The `{{ … }}` expressions, in order; the parsed text holds `__hls_template_N__` in their place. */
  templates: string[];
}

/** The hooks file's checks, or one SKIP line without --hooks. */
export function checkHooksFile(file: string | undefined): Check[] {
  if (file === undefined) return [skip('hooks file', 'no --hooks FILE given (e.g. --hooks /etc/webhook/hooks.json)')];
  const path = resolve(file);
  let parsed: ParsedHooks;
  try {
    parsed = parseHooks(readFileSync(path, 'utf8'), /\.ya?ml$/i.test(extname(path)));
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

/**
 * Parses a hooks file written for `webhook -template`: Go template expressions (`{{ getenv "X" | js }}`)
 * sit inside JSON strings with unescaped quotes, so each is replaced by a placeholder first (quoted when
 * it stands outside a string). YAML files go through the YAML parser.
 */
export function parseHooks(text: string, yaml = false): ParsedHooks {
  const templates: string[] = [];
  let out = '';
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const end = text.startsWith('{{', i) ? text.indexOf('}}', i + 2) : -1;
    if (end !== -1) {
      const placeholder = `__hls_template_${templates.length}__`;
      templates.push(text.slice(i, end + 2));
      out += inString ? placeholder : `"${placeholder}"`;
      i = end + 1;
      escaped = false;
      continue;
    }
    const ch = text[i]!;
    out += ch;
    if (escaped) escaped = false;
    else if (inString && ch === '\\') escaped = true;
    else if (ch === '"') inString = !inString;
  }
  return { hooks: yaml ? parseYaml(out) : parseJson(out), templates };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = Number(/position (\d+)/.exec(message)?.[1]);
    const line = Number.isFinite(position) ? ` (line ${text.slice(0, position).split('\n').length})` : '';
    throw new Error(`not valid JSON${line}: ${message}`);
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

interface HmacRule {
  match: Json;
  /** Inside an `or`: with trigger-signature-soft-failures, a bad signature is a mismatch, not an error. */
  inOr: boolean;
}

/** A payload-hmac-sha256 rule on X-Hub-Signature-256 that no branch of the trigger rule can bypass. */
export function checkHookSignature(id: string, hook: Json, templates: string[]): Check {
  const name = `hook ${id} signature`;
  const rule = hook['trigger-rule'];
  const rules = collectHmacRules(rule, false);
  if (rules.length === 0) {
    const other = collectMatchTypes(rule).filter((type) => /^payload-(hmac|hash)-/.test(type));
    return fail(
      name,
      `no payload-hmac-sha256 rule${other.length ? ` (found ${other.join(', ')})` : ''}: anyone who reaches the relay ` +
        'can run the hook; add {"match": {"type": "payload-hmac-sha256", "secret": "{{ getenv \\"HLS_GITHUB_WEBHOOK_SECRET\\" | js }}", ' +
        '"parameter": {"source": "header", "name": "X-Hub-Signature-256"}}} to trigger-rule',
    );
  }
  const problems = rules.flatMap((found) => ruleProblems(found.match, templates));
  if (!requiresSignature(rule)) {
    problems.push('it sits in an "or" with alternatives that do not check the signature, so it can be bypassed');
  }
  if (problems.length > 0) return fail(name, `payload-hmac-sha256: ${problems.join('; ')}`);

  const soft = hook['trigger-signature-soft-failures'] === true;
  const mismatch = hook['trigger-rule-mismatch-http-response-code'];
  const wrapped = soft && rules.every((found) => found.inOr);
  const outcome = wrapped
    ? `wrapped in "or" with trigger-signature-soft-failures: a wrong signature is a rule mismatch (HTTP ${
        typeof mismatch === 'number' ? mismatch : '200; set trigger-rule-mismatch-http-response-code: 403'
      })`
    : 'not wrapped for soft failures: a wrong signature is an error (HTTP 500)';
  return ok(
    name,
    `payload-hmac-sha256 on X-Hub-Signature-256, ${describeSecret(rules[0]!.match, templates)}; ${outcome}`,
  );
}

function collectHmacRules(rule: unknown, inOr: boolean): HmacRule[] {
  if (!isObject(rule)) return [];
  if (Array.isArray(rule.and)) return rule.and.flatMap((child) => collectHmacRules(child, inOr));
  if (Array.isArray(rule.or)) return rule.or.flatMap((child) => collectHmacRules(child, true));
  if (isObject(rule.not)) return []; // a negated signature check protects nothing
  if (isObject(rule.match) && rule.match.type === 'payload-hmac-sha256') return [{ match: rule.match, inOr }];
  return [];
}

function collectMatchTypes(rule: unknown): string[] {
  if (!isObject(rule)) return [];
  const children = [rule.and, rule.or].flatMap((list) => (Array.isArray(list) ? list : []));
  const own = isObject(rule.match) && typeof rule.match.type === 'string' ? [rule.match.type] : [];
  return [...own, ...children.flatMap(collectMatchTypes), ...collectMatchTypes(rule.not)];
}

/** True when every way of satisfying the rule passes through a payload-hmac-sha256 match. */
function requiresSignature(rule: unknown): boolean {
  if (!isObject(rule)) return false;
  if (Array.isArray(rule.and)) return rule.and.some(requiresSignature);
  if (Array.isArray(rule.or)) return rule.or.length > 0 && rule.or.every(requiresSignature);
  return isObject(rule.match) && rule.match.type === 'payload-hmac-sha256';
}

function ruleProblems(match: Json, templates: string[]): string[] {
  const problems: string[] = [];
  const parameter = isObject(match.parameter) ? match.parameter : {};
  const header = typeof parameter.name === 'string' ? parameter.name : '';
  if (parameter.source !== 'header' || header.toLowerCase() !== 'x-hub-signature-256') {
    problems.push(
      `it checks ${String(parameter.source ?? '?')} ${header || '?'}; GitHub sends the signature in the ` +
        'X-Hub-Signature-256 header ({"source": "header", "name": "X-Hub-Signature-256"})',
    );
  }
  const source = secretSource(match.secret, templates);
  if (source.kind === 'empty') problems.push('its secret is empty');
  if (source.kind === 'template') problems.push('its secret is a template expression without getenv "VARIABLE"');
  return problems;
}

type SecretSource = { kind: 'empty' | 'literal' | 'template' } | { kind: 'env'; variable: string };

/** Where a rule's secret comes from, never the secret itself. */
function secretSource(secret: unknown, templates: string[]): SecretSource {
  if (typeof secret !== 'string' || secret === '') return { kind: 'empty' };
  const placeholder = TEMPLATE.exec(secret);
  if (!placeholder) return { kind: 'literal' };
  const variable = /getenv\s+"([^"]+)"/.exec(templates[Number(placeholder[1])] ?? '')?.[1];
  return variable ? { kind: 'env', variable } : { kind: 'template' };
}

function describeSecret(match: Json, templates: string[]): string {
  const source = secretSource(match.secret, templates);
  return source.kind === 'env'
    ? `secret from $${source.variable}`
    : 'secret written in the file (prefer {{ getenv "HLS_GITHUB_WEBHOOK_SECRET" | js }} with -template)';
}

function listOf(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
