import * as z from 'zod';
import type { MsRange } from '../duration.js';
import { GITHUB_EVENTS } from './events.js';
import { RANGES } from './ranges.js';

const eventName = z.enum(GITHUB_EVENTS, { error: (issue) => `unknown event "${String(issue.input)}"` });
const secret = z.string().min(1).optional();

const usd = z.number().min(0);

/** A number within a range given in milliseconds (see ranges.ts), counted in `unit`s. */
const within = (range: MsRange, unit: { ms: number; name: string }) => {
  const error = `expected ${range.min / unit.ms} to ${range.max / unit.ms} ${unit.name}`;
  return z
    .number()
    .min(range.min / unit.ms, { error })
    .max(range.max / unit.ms, { error });
};
const seconds = (range: MsRange) => within(range, { ms: 1000, name: 'seconds' });
const milliseconds = (range: MsRange) => within(range, { ms: 1, name: 'ms' }).int();
const tokenPrices = z.strictObject({
  input: usd,
  cache_write_5m: usd,
  cache_write_1h: usd,
  cache_read: usd,
  output: usd,
});
const modelPrices = tokenPrices.extend({
  long_context: tokenPrices.extend({ above_tokens: z.number().int().positive() }).optional(),
});

const labelDefinition = z.strictObject({
  name: z.string().min(1).max(50),
  color: z
    .string()
    .regex(/^[0-9a-fA-F]{6}$/, 'expected a hex colour like "d73a4a"')
    .default('ededed'),
  description: z.string().max(100).optional(),
});
const levelLabels = <T extends readonly [string, ...string[]]>(levels: T) =>
  z.partialRecord(z.enum(levels), z.string().min(1)).default({});

const level = (warning: number, critical: number) =>
  z
    .strictObject({ warning: z.number().min(0).default(warning), critical: z.number().min(0).default(critical) })
    .prefault({});

const repository = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'expected "owner/repo"'),
  enabled: z.boolean().default(true),
  events: z.array(eventName).default(['issues', 'pull_request', 'pull_request_review', 'workflow_run']),
  /** Actions analysed per event; defaults per handler (e.g. issues: opened, reopened). */
  actions: z.partialRecord(eventName, z.array(z.string().min(1))).default({}),
  labels: z
    .strictObject({
      auto_apply: z.boolean().default(true),
      /** Labels the model may apply; anything else it suggests is ignored. */
      allowed: z.array(z.string().min(1)).default([]),
      priority: levelLabels(['high', 'medium', 'low'] as const),
      difficulty: levelLabels(['easy', 'moderate', 'complex'] as const),
      /** Applied when the model names a duplicate with enough confidence (similar.duplicate_confidence); must be allowed. */
      duplicate: z.string().min(1).optional(),
      /** What `hls labels sync` creates or updates. */
      definitions: z.array(labelDefinition).default([]),
    })
    .prefault({}),
  comments: z.strictObject({ auto_post: z.boolean().default(true) }).prefault({}),
  daily_budget_usd: usd.optional(),
  /** Templates here override prompts/<event>/<name>.liquid for this repository. */
  prompts_dir: z.string().min(1).optional(),
});

/** GitHub App authentication (instead of github.token): see docs/github-app.md. */
const githubApp = z
  .strictObject({
    id: z.number().int().positive().optional(),
    /** The PEM, normally `${HLS_GITHUB_APP_PRIVATE_KEY}`. */
    private_key: secret,
    private_key_file: z.string().min(1).optional(),
    /** Skips discovery: every repository is served by this installation. */
    installation_id: z.number().int().positive().optional(),
  })
  .check((ctx) => {
    const app = ctx.value;
    const keys = Number(app.private_key !== undefined) + Number(app.private_key_file !== undefined);
    const problem =
      app.id === undefined
        ? 'id is required (the App ID on its settings page)'
        : keys === 0
          ? 'set private_key (e.g. ${HLS_GITHUB_APP_PRIVATE_KEY}: is the variable set?) or private_key_file'
          : keys === 2
            ? 'set private_key or private_key_file, not both'
            : undefined;
    if (problem) ctx.issues.push({ code: 'custom', message: problem, input: app });
  })
  .optional();

const eventModel = z.strictObject({
  model: z.string().min(1).optional(),
  max_tokens: z.number().int().positive().optional(),
  template: z
    .string()
    .regex(/^[\w-]+$/, 'expected a template name such as "analyze"')
    .optional(),
});

export const configSchema = z.strictObject({
  github: z
    .strictObject({
      token: secret,
      webhook_secret: secret,
      api_url: z.url().optional(),
      /** The login hls posts as; learned once from the token (GET /user) when not set. */
      bot_login: z.string().min(1).optional(),
      label_cache_seconds: seconds(RANGES.labelCache).default(3600),
      /** How long a repository's .github/hls.yml is used before GitHub is asked again (conditionally). */
      settings_file_ttl_seconds: seconds(RANGES.settingsFileTtl).default(300),
      /** Per request (and each of its retries): a GitHub that accepts connections but never answers gives up. */
      timeout_seconds: seconds(RANGES.requestTimeout).default(30),
      /** Shared by every hls process using the token (GitHub's documented limits are the defaults). */
      pacing: z
        .strictObject({
          /** Off only for tests and benchmarks against a fake. */
          enabled: z.boolean().default(true),
          /** Content-creating requests (POST, PATCH, PUT, DELETE) at least this far apart. */
          min_interval_seconds: seconds(RANGES.pacingInterval).default(1),
          /** At most `max` content-creating requests in any `seconds`. */
          windows: z
            .array(z.strictObject({ max: z.number().int().positive(), seconds: seconds(RANGES.pacingWindow) }))
            .default([
              { max: 80, seconds: 60 },
              { max: 500, seconds: 3600 },
            ]),
          /** When x-ratelimit-remaining falls under this, requests wait for x-ratelimit-reset. */
          reserve: z.number().int().min(0).default(50),
          /** A longer wait (reset, secondary limit) puts the event back in the queue instead of sleeping. */
          max_wait_seconds: seconds(RANGES.pacingMaxWait).default(60),
        })
        .prefault({}),
      app: githubApp,
    })
    .refine((github) => github.token === undefined || github.app === undefined, {
      message: 'set token or app (a GitHub App), not both',
    })
    .prefault({}),
  claude: z
    .strictObject({
      api_key: secret,
      model: z.string().min(1).default('claude-sonnet-5-5'),
      max_tokens: z.number().int().positive().default(4000),
      base_url: z.url().optional(),
      daily_budget_usd: usd.optional(),
      prices: z.record(z.string(), modelPrices).default({}),
      events: z.partialRecord(eventName, eventModel).default({}),
      timeout_seconds: seconds(RANGES.requestTimeout).default(120),
      /** After a spend-limit answer, model calls stop this long; then the waiting events try again. */
      spend_limit_recheck_seconds: seconds(RANGES.spendLimitRecheck).default(3600),
    })
    .prefault({}),
  repositories: z.array(repository).default([]),
  filters: z
    .strictObject({
      ignore_users: z.array(z.string().min(1)).default([]),
      min_body_length: z.number().int().min(0).default(20),
      opt_out_label: z.string().min(1).default('hls:ignore'),
      skip_drafts: z.boolean().default(true),
      /** Events of one thread arriving within this window are analysed once, for the newest. */
      debounce_seconds: seconds(RANGES.debounce).default(30),
      /** An issue comment is analysed only when it contains this (default: "@" + the bot login). */
      comment_trigger: z.string().min(1).optional(),
      /** Per thread, history kept in the prompt (characters). */
      history_chars: z.number().int().min(0).default(6000),
      diff_chars: z.number().int().min(0).default(20000),
      log_chars: z.number().int().min(0).default(8000),
    })
    .prefault({}),
  /** Related and duplicate issues: the indexed threads of the same repository offered in the prompt. */
  similar: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Candidates offered to the model at most. */
      max: z.number().int().min(0).max(20).default(5),
      /** Candidates scoring below this (0 to 1) are not offered. */
      min_score: z.number().min(0).max(1).default(0.1),
      /** labels.duplicate is applied only when the analysis's confidence is at least this. */
      duplicate_confidence: z.number().min(0).max(1).default(0.8),
    })
    .prefault({}),
  features: z
    .strictObject({
      signature_validation: z.boolean().default(true),
      auto_labeling: z.boolean().default(true),
      dry_run: z.boolean().default(false),
    })
    .prefault({}),
  database: z
    .strictObject({
      path: z.string().min(1).optional(),
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\//i, 'must be a postgres:// or postgresql:// URL')
        .optional(),
    })
    .refine((d) => d.path === undefined || d.url === undefined, {
      message: 'set database.path (SQLite) or database.url (PostgreSQL), not both',
    })
    .prefault({}),
  queue: z
    .strictObject({
      max_attempts: z.number().int().min(1).default(5),
      backoff_base_seconds: seconds(RANGES.backoffBase).default(10),
      backoff_max_seconds: seconds(RANGES.backoffMax).default(3600),
      lease_seconds: seconds(RANGES.lease).default(300),
      poll_ms: milliseconds(RANGES.poll).default(1000),
      /** PostgreSQL: idle workers LISTEN for new events; false polls only (a pooler in transaction mode breaks LISTEN). */
      listen: z.boolean().default(true),
      concurrency: z.number().int().min(1).max(64).default(2),
      grace_seconds: seconds(RANGES.grace).default(30),
    })
    .prefault({}),
  handlers: z.partialRecord(eventName, z.string().min(1)).default({}),
  prune: z
    .strictObject({
      /** Default of `hls prune --older-than`. */
      older_than_days: z.number().positive().max(3650).default(30),
      /** Also delete the rows (not only the payloads) of old finished events no ledger entry refers to. */
      delete_rows: z.boolean().default(false),
    })
    .prefault({}),
  /** Thresholds of `hls stats --check` (Nagios: warning, critical). */
  alerts: z
    .strictObject({
      failure_rate: level(0.1, 0.5),
      oldest_due_seconds: level(600, 1800),
      failed: level(1, 20),
      budget_used_percent: level(80, 100),
      /** Alerts when fewer workers than this are live. */
      live_workers: level(1, 1),
      /** Alerts when a GitHub or Anthropic rate limit has less than this percentage left. */
      rate_limit_remaining_percent: level(20, 5),
    })
    .prefault({}),
  front_door: z
    .strictObject({
      /** The nginx include `hls allowlist` writes and `hls doctor` checks; unset: no check. */
      allowlist_file: z.string().min(1).optional(),
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
