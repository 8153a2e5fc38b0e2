import type { Worker } from '@temporalio/worker';

export interface RunningTemporalWorker {
  /** Resolves while the worker runs; rejects with its state otherwise (for /readyz). */
  check(): Promise<void>;
  /** Stops polling, lets in-flight tasks finish, and resolves once the worker has stopped. */
  stop(): Promise<void>;
}

/**
 * Runs the Temporal worker and tells `onFailure` once if it fails, or ends without being asked to:
 * before this, `worker.run()` was never watched, and a process whose worker had failed went on
 * running, with nothing to run its workflows. When the worker fails, `run()` first waits for the
 * core's shutdown, which can take minutes when the server refuses the worker (a revoked API key, a
 * deleted namespace), so the worker's state is looked at every `checkMs` as well.
 */
export function runTemporalWorker(
  worker: Worker,
  onFailure: (err: Error) => void,
  checkMs = 1000,
): RunningTemporalWorker {
  let stopping = false;
  let reported = false;
  const report = (err: Error) => {
    if (stopping || reported) return;
    reported = true;
    clearInterval(timer);
    onFailure(err);
  };
  const running = worker.run().then(
    () => report(new Error('the Temporal worker stopped without being asked to')),
    (err: unknown) => report(err instanceof Error ? err : new Error(String(err))),
  );
  // The SDK has logged the failure's cause ('Worker failed'); its state is all it exposes.
  const timer = setInterval(() => {
    if (worker.getState() === 'FAILED') report(new Error('the Temporal worker failed (its error is logged above)'));
  }, checkMs).unref();

  return {
    check: async () => {
      const state = worker.getState();
      if (state !== 'RUNNING') throw new Error(`the Temporal worker is ${state}`);
    },
    stop: async () => {
      stopping = true;
      clearInterval(timer);
      const state = worker.getState();
      if (state === 'RUNNING') worker.shutdown(); // stops polling; in-flight activities finish first
      // A failed worker has nothing in flight, and its run() may wait minutes for a server that refuses it.
      if (state !== 'FAILED') await running;
    },
  };
}
