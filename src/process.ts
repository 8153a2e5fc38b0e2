import { ConfigError, loadConfig, type Config } from './config';
import { createLogger, type Logger } from './logger';

/**
 * What a process opened, closed in the reverse order. A start-up that fails half-way closes what
 * it had opened; a normal stop closes everything the same way.
 */
export class Resources {
  private readonly closers: Array<{ name: string; close: () => unknown }> = [];

  constructor(private readonly logger: Logger) {}

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

/**
 * Runs a process's start-up: on failure, whatever it had opened is closed before the error goes on.
 * The result's `stop` closes everything, once however often it is called.
 */
export async function startUp<T extends object>(
  logger: Logger,
  build: (resources: Resources) => Promise<T>,
): Promise<T & { stop(): Promise<void> }> {
  const resources = new Resources(logger);
  try {
    const built = await build(resources);
    const stop = async () => {
      await resources.close();
      logger.info('stopped');
    };
    return { ...built, stop: once(stop) };
  } catch (err) {
    await resources.close();
    throw err;
  }
}

/**
 * The main of a process: load and validate the config (a bad one stops it with the variable's
 * name), start it, and stop it once on SIGINT/SIGTERM; a second signal exits at once.
 */
export function runProcess(
  name: string,
  start: (config: Config, logger: Logger) => Promise<{ stop(): Promise<void> }>,
): void {
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
    (running) => onShutdown(logger, () => running.stop()),
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
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}

/** Wraps a stop function so that calling it again returns the first call's promise. */
function once(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stop());
}
