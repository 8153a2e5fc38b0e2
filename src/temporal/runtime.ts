import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../logger';

/**
 * The SDK's runtime, once per process, before its first Temporal connection (the API's too: without
 * it the native core printed its own coloured text lines into the JSON log). It logs through this
 * process's logger, its routine chatter (bundling, state changes) only at debug. `shutdownSignals: []`:
 * this process's own handler (process.ts) stops the worker, in order. A runtime installed earlier in
 * the process (a test's) is kept.
 */
export function installSdkRuntime(logger: Logger): void {
  const sdk = logger.child({ component: 'temporal-sdk' });
  const level: LogLevel = logger.isLevelEnabled('debug') ? 'DEBUG' : 'WARN';
  try {
    Runtime.install({
      shutdownSignals: [],
      // The native core's own logs (connection trouble, task failures) come through this logger too,
      // as JSON lines like the rest, instead of raw text on the console.
      telemetryOptions: { logging: { filter: { core: level, other: 'ERROR' }, forward: {} } },
      logger: new DefaultLogger(level, ({ level, message, meta }) => {
        const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level];
        sdk[method](meta ?? {}, message);
      }),
    });
  } catch (err) {
    if ((err as Error).name !== 'IllegalStateError') throw err;
  }
}
