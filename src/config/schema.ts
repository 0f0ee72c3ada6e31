import * as z from 'zod';
import { GITHUB_EVENTS } from './events.js';

const eventName = z.enum(GITHUB_EVENTS, { error: (issue) => `unknown event "${String(issue.input)}"` });
const secret = z.string().min(1).optional();

const repository = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'expected "owner/repo"'),
  enabled: z.boolean().default(true),
  events: z.array(eventName).default(['issues', 'pull_request', 'pull_request_review', 'workflow_run']),
  labels: z.strictObject({ auto_apply: z.boolean().default(true) }).prefault({}),
  comments: z.strictObject({ auto_post: z.boolean().default(true) }).prefault({}),
});

export const configSchema = z.strictObject({
  github: z
    .strictObject({
      token: secret,
      webhook_secret: secret,
      api_url: z.url().default('https://api.github.com'),
    })
    .prefault({}),
  claude: z
    .strictObject({
      api_key: secret,
      model: z.string().min(1).default('claude-sonnet-5-5'),
      max_tokens: z.number().int().positive().default(4000),
      base_url: z.url().optional(),
    })
    .prefault({}),
  repositories: z.array(repository).default([]),
  features: z
    .strictObject({
      signature_validation: z.boolean().default(true),
      auto_labeling: z.boolean().default(true),
      dry_run: z.boolean().default(false),
    })
    .prefault({}),
  database: z.strictObject({ path: z.string().min(1).optional() }).prefault({}),
  queue: z
    .strictObject({
      max_attempts: z.number().int().min(1).default(5),
      backoff_base_seconds: z.number().positive().default(10),
      backoff_max_seconds: z.number().positive().default(3600),
      lease_seconds: z.number().positive().default(300),
      poll_ms: z.number().int().min(10).default(1000),
      concurrency: z.number().int().min(1).max(64).default(2),
      grace_seconds: z.number().min(0).default(30),
    })
    .prefault({}),
  handlers: z.partialRecord(eventName, z.string().min(1)).default({}),
  logging: z
    .strictObject({
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
