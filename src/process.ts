import { ConfigError, loadConfig, type Config } from './config';
import { createLogger, type Logger } from './logger';

/**
 * What a process opened, closed in the reverse order. A start-up that fails half-way closes what
 * it had opened; a normal stop closes everything the same way.
 */
export class Resources {
  private readonly closers: Array<{ name: string; close: () => unknown }> = [];
  private reportFailure!: (failure: Failure) => void;
  /** The first part that failed for good while the process ran (see `fail`); it never rejects. */
  readonly failed = new Promise<Failure>((resolve) => (this.reportFailure = resolve));

  constructor(private readonly logger: Logger) {}

  /**
   * A part that runs on its own (the Temporal worker) has failed, and the process is no use without
   * it: runProcess logs it as fatal and exits non-zero, so that the supervisor starts it afresh.
   */
  fail(part: string, err: unknown): void {
    this.reportFailure({ part, err });
  }

  /** Registers how to close something just opened, and returns it. */
  add<T>(name: string, resource: T, close: (resource: T) => unknown): T {
    this.closers.push({ name, close: () => close(resource) });
    return resource;
  }

  /** Closes everything, last opened first; one failure is logged and does not keep the rest open. */
  async close(): Promise<void> {
    for (let c = this.closers.pop(); c; c = this.closers.pop()) {
      try {
        await c.close();
      } catch (err) {
        this.logger.warn({ err, resource: c.name }, 'could not close cleanly');
      }
    }
  }
}

export interface Failure {
  part: string;
  err: unknown;
}

/** A started process: how to stop it, and whether a part of it has failed for good. */
export interface Running {
  stop(): Promise<void>;
  failed: Promise<Failure>;
}

/**
 * Runs a process's start-up: on failure, whatever it had opened is closed before the error goes on.
 * The result's `stop` closes everything, once however often it is called.
 */
export async function startUp<T extends object>(
  logger: Logger,
  build: (resources: Resources) => Promise<T>,
): Promise<T & Running> {
  const resources = new Resources(logger);
  try {
    const built = await build(resources);
    const stop = async () => {
      await resources.close();
      logger.info('stopped');
    };
    return { ...built, stop: once(stop), failed: resources.failed };
  } catch (err) {
    await resources.close();
    throw err;
  }
}

/**
 * The main of a process: load and validate the config (a bad one stops it with the variable's
 * name), start it, and stop it once on SIGINT/SIGTERM; a second signal exits at once. A part that
 * fails for good stops it too, with exit code 1.
 */
export function runProcess(name: string, start: (config: Config, logger: Logger) => Promise<Running>): void {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${name}: ${err.message}`);
    process.exit(2);
  }
  const logger = createLogger(name, config.log);
  start(config, logger).then(
    (running) => {
      onShutdown(logger, () => running.stop());
      void running.failed.then(({ part, err }) => exitOnFailure(logger, part, err, () => running.stop()));
    },
    (err: unknown) => {
      logger.fatal({ err }, 'failed to start');
      process.exit(1);
    },
  );
}

function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(), // 0, or 1 if a part had failed (exitOnFailure) before the signal came
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}

/**
 * Logs the failure as fatal and exits with 1, after closing what can be closed: in-flight work
 * finishes and the outbox is published, as on SIGTERM. A failed part may never finish closing
 * (a failed Temporal worker can wait minutes for the server), so the exit waits at most FAILURE_STOP_MS.
 */
const FAILURE_STOP_MS = 15_000;
function exitOnFailure(logger: Logger, part: string, err: unknown, stop: () => Promise<void>): void {
  logger.fatal({ err, part }, `${part} failed; exiting so that the process is started afresh`);
  process.exitCode = 1;
  const timer = setTimeout(() => {
    logger.error({ part, waitedMs: FAILURE_STOP_MS }, 'could not stop cleanly in time; exiting anyway');
    process.exit(1);
  }, FAILURE_STOP_MS);
  stop()
    .catch((stopErr: unknown) => logger.error({ err: stopErr }, 'shutdown failed'))
    .finally(() => {
      clearTimeout(timer);
      process.exit(1);
    });
}

/** Wraps a stop function so that calling it again returns the first call's promise. */
function once(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stop());
}
