// Long-running `hls worker` processes for the chaos suites: start them, SIGKILL some on purpose, tell a
// planned death from an unexpected exit, stop the rest with SIGTERM, and clean up after a failed run.
import { finished, startHls, type RunOptions, type RunResult } from './hls.js';
import type { ChildProcess } from 'node:child_process';

export interface PoolWorker {
  id: string;
  /** A label the test chose (e.g. the host it runs on). */
  group: string;
  child: ChildProcess;
  done: Promise<RunResult>;
  killed: boolean;
  /** The last 4,000 characters of its stderr. */
  stderr(): string;
}

export class WorkerPool {
  readonly alive = new Set<PoolWorker>();
  readonly started: PoolWorker[] = [];
  /** Workers that exited without being killed or stopped: one line each. */
  readonly unexpectedExits: string[] = [];
  kills = 0;
  private stopping = false;

  /** Starts `hls worker --id ID …args`. */
  start(id: string, group: string, args: string[], options: RunOptions): PoolWorker {
    const child = startHls(['worker', '--id', id, ...args], options);
    let tail = '';
    child.stderr!.on('data', (chunk: string) => (tail = (tail + chunk).slice(-4000)));
    const worker: PoolWorker = { id, group, child, done: finished(child), killed: false, stderr: () => tail };
    void worker.done.then((result) => {
      this.alive.delete(worker);
      if (!worker.killed && !this.stopping)
        this.unexpectedExits.push(
          `${id}: exit ${result.code} ${result.signal ?? ''} ${result.stderr.trim().split('\n').pop()}`,
        );
    });
    this.alive.add(worker);
    this.started.push(worker);
    return worker;
  }

  /** SIGKILL, counted in `kills`. */
  kill(worker: PoolWorker): void {
    worker.killed = true;
    this.kills++;
    worker.child.kill('SIGKILL');
    this.alive.delete(worker);
  }

  /** SIGTERM to every live worker; their results, once every worker ever started has exited. */
  async stop(): Promise<Array<{ worker: PoolWorker; result: RunResult }>> {
    this.stopping = true;
    const survivors = [...this.alive];
    for (const worker of survivors) worker.child.kill('SIGTERM');
    const results = await Promise.all(survivors.map(async (worker) => ({ worker, result: await worker.done })));
    await Promise.all(this.started.map((worker) => worker.done));
    return results;
  }

  /** After a failed run: SIGKILL whatever is still running. */
  killAll(): void {
    this.stopping = true;
    for (const { child } of this.started)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
