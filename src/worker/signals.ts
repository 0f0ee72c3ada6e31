import type { Logger } from '../log.js';
import type { Worker } from './runner.js';

/** First SIGTERM/SIGINT: drain within the grace period. A second one: give everything back now. */
export function stopOnSignals(worker: Worker, log: Logger): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    received++;
    if (received === 1) {
      log.info(`${signal}: no new claims; finishing in-flight events`);
      worker.stop();
    } else {
      log.warn(`${signal} again: returning in-flight events to the queue`);
      worker.abandonAll();
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
