import { createHash } from 'node:crypto';
import { readBody } from '../intake/body.js';
import { describeEvent } from '../intake/describe.js';
import { resolveDeliveryInputs, type DeliveryInputs } from '../intake/inputs.js';
import { isValidSignature } from '../intake/signature.js';
import { visible } from '../intake/visible.js';
import { CliError, EXIT } from '../exit-codes.js';
import { databaseTarget } from '../config/database-target.js';
import { DatabaseMissingError } from '../store/errors.js';
import { openStore } from '../store/open-store.js';
import type { NewEvent } from '../store/types.js';
import { databaseRefusal } from './database-errors.js';

/** The whole command must answer well inside GitHub's 10 s delivery window. */
const DEADLINE_MS = 8000;

/**
 * `hls queue`: the relay's per-delivery hot path. Prints exactly one line and returns the exit code.
 * Deliberately imports no config parser, logger, Octokit, SDK or template engine unless a config is given.
 */
export async function runQueue(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const startedAt = Date.now();
  try {
    const inputs = resolveDeliveryInputs(argv, env);
    const settings = await queueSettings(inputs, env);
    const body = readBody(inputs.bodyFile);
    if (settings.secret !== undefined && !isValidSignature(settings.secret, body, inputs.signature)) {
      throw new CliError(
        inputs.signature ? 'signature does not match the webhook secret' : 'missing X-Hub-Signature-256 signature',
        EXIT.NO_PERM,
      );
    }
    const payload = parsePayload(body);
    const summary = describeEvent(inputs.event, payload);
    const id = await store(settings.database, DEADLINE_MS - (Date.now() - startedAt), {
      deliveryId: inputs.delivery,
      eventType: inputs.event,
      ...summary,
      hookId: inputs.hookId ?? null,
      payload: body,
      payloadSha256: createHash('sha256').update(body).digest('hex'),
      signature: inputs.signature ?? null,
    });
    if (id === null) {
      process.stdout.write(`duplicate ${inputs.delivery}\n`);
    } else {
      const name = summary.action ? `${inputs.event}.${visible(summary.action, 80)}` : inputs.event;
      process.stdout.write(`queued ${id} ${name} ${summary.repository ? visible(summary.repository, 200) : '-'}\n`);
    }
    return EXIT.OK;
  } catch (error) {
    const failure =
      error instanceof CliError ? error : new CliError(`unexpected: ${(error as Error).message}`, EXIT.TEMP_FAIL);
    process.stdout.write(`error: ${failure.message}\n`);
    return failure.exitCode;
  }
}

interface QueueSettings {
  database: string;
  secret: string | undefined;
}

async function queueSettings(inputs: DeliveryInputs, env: NodeJS.ProcessEnv): Promise<QueueSettings> {
  const envSecret = env.HLS_GITHUB_WEBHOOK_SECRET || undefined;
  if (!inputs.config) return { database: databaseTarget(inputs.db, env), secret: envSecret };
  const { loadConfig } = await import('../config/load.js');
  const config = loadConfig(inputs.config, env);
  const database = databaseTarget(inputs.db, env, config.database);
  if (!config.features.signature_validation) return { database, secret: undefined };
  const secret = envSecret ?? config.github.webhook_secret;
  if (secret === undefined && config.unresolved.includes('github.webhook_secret')) {
    // Fail closed: the config names a secret, but its environment variable is not set here.
    throw new CliError('github.webhook_secret refers to an environment variable that is not set', EXIT.NO_PERM);
  }
  return { database, secret };
}

function parsePayload(body: Buffer): Record<string, unknown> {
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    throw new CliError('body is not valid JSON', EXIT.DATA);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new CliError('body is not a JSON object', EXIT.DATA);
  }
  return payload as Record<string, unknown>;
}

async function store(database: string, budgetMs: number, event: NewEvent): Promise<number | null> {
  let opened;
  try {
    opened = await openStore(database, {
      create: true,
      busyTimeoutMs: budgetMs,
      synchronous: 'FULL',
      maxConnections: 1,
      statementTimeoutMs: budgetMs,
    });
    return await opened.queue.enqueue(event);
  } catch (error) {
    // A PostgreSQL database is made by its operator, never by the relay: a missing one is configuration.
    if (error instanceof DatabaseMissingError) throw new CliError(error.message, EXIT.CONFIG);
    const refusal = databaseRefusal(error, database);
    if (refusal) throw refusal;
    const code = (error as { code?: string }).code ?? '';
    const reason = /^(SQLITE_|E[A-Z]|[0-9A-Z]{5}$)/.test(code) ? code : (error as Error).message;
    throw new CliError(`database unavailable (${reason}); redeliver later`, EXIT.TEMP_FAIL);
  } finally {
    await opened?.close();
  }
}
