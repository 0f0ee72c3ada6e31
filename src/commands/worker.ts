import { hostname } from 'node:os';
import { anthropicKey } from '../clients/anthropic.js';
import { githubCredentials } from '../clients/github-access.js';
import { CliError, EXIT } from '../exit-codes.js';
import { registerBuiltinHandlers } from '../pipeline/handlers/index.js';
import { WorkerIdInUseError } from '../store/errors.js';
import { HandlerRegistry } from '../worker/handlers.js';
import { Worker } from '../worker/runner.js';
import { stopOnSignals } from '../worker/signals.js';
import { commandContext, openForCommand, type GlobalOptions } from './command-context.js';

export interface WorkerFlags extends GlobalOptions {
  id?: string;
  concurrency?: number;
  once?: boolean;
  poll?: number;
  /** Milliseconds (parsed from a duration). */
  lease?: number;
  /** Milliseconds (parsed from a duration). */
  grace?: number;
  dryRun?: boolean;
}

export async function runWorker(flags: WorkerFlags): Promise<number> {
  const { config, database, log } = commandContext(flags);
  const queue = config.queue;
  const id = flags.id ?? `${hostname()}:${process.pid}`;
  if (!/^[\w.:@-]{1,100}$/.test(id))
    throw new CliError(`invalid worker id "${id}": use letters, digits and . : @ - _`, EXIT.USAGE);
  const registry = new HandlerRegistry();
  registerBuiltinHandlers(registry);
  await registry.registerModules(config.handlers);
  if (!anthropicKey(config, process.env)) {
    log.warn('ANTHROPIC_API_KEY is not set: prompts are rendered and recorded, nothing is sent to Claude');
  }
  if (!githubCredentials(config, process.env)) {
    log.warn(
      'neither GITHUB_TOKEN nor github.app is set: planned GitHub actions are recorded, nothing is written to GitHub',
    );
  }
  const store = await openForCommand(database, { create: true });
  const worker = new Worker(
    store,
    registry,
    config,
    {
      id,
      concurrency: flags.concurrency ?? queue.concurrency,
      pollMs: flags.poll ?? queue.poll_ms,
      listen: queue.listen,
      leaseMs: flags.lease ?? queue.lease_seconds * 1000,
      graceMs: flags.grace ?? queue.grace_seconds * 1000,
      maxAttempts: queue.max_attempts,
      backoff: { baseMs: queue.backoff_base_seconds * 1000, maxMs: queue.backoff_max_seconds * 1000 },
      once: flags.once ?? false,
      dryRun: flags.dryRun ?? config.features.dry_run,
    },
    log,
  );
  const removeSignalHandlers = stopOnSignals(worker, log);
  try {
    await worker.run();
  } catch (error) {
    if (error instanceof WorkerIdInUseError) throw new CliError(error.message, EXIT.TEMP_FAIL);
    throw error;
  } finally {
    removeSignalHandlers();
    await store.close();
  }
  return EXIT.OK;
}
