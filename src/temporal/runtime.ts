import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../logger';
import { RepeatedWarnings } from './repeats';

export interface SdkLogs {
  /** Logs how many alike warnings were held back since their first; called when the process stops. */
  flush(): void;
}

/**
 * The SDK's runtime, once per process, before its first Temporal connection (the API's too: without
 * it the native core printed its own coloured text lines into the JSON log). It logs through this
 * process's logger, its routine chatter (bundling, state changes) only at debug, and warnings that
 * repeat (one per gRPC retry in an outage) collapsed into the first and a count; errors always pass.
 * `shutdownSignals: []`: this process's own handler (process.ts) stops the worker, in order. A
 * runtime installed earlier in the process (a test's) is kept.
 *
 * `metricsPort` (the worker's TEMPORAL_METRICS_PORT): the core's own Prometheus endpoint, `/metrics`
 * on that port, with the SDK's task metrics (`temporal_…`: schedule-to-start latencies, slots,
 * sticky cache, pollers); durations in seconds and counters with `_total`, like prom-client's.
 * Only the worker passes it: the API and the worker may share a host (`npm run dev`).
 */
export function installSdkRuntime(logger: Logger, options: { metricsPort?: number } = {}): SdkLogs {
  const sdk = logger.child({ component: 'temporal-sdk' });
  const level: LogLevel = logger.isLevelEnabled('debug') ? 'DEBUG' : 'WARN';
  const repeats = new RepeatedWarnings((summary) => sdk.warn(summary, 'alike warnings held back since the first'));
  try {
    Runtime.install({
      shutdownSignals: [],
      // The native core's own logs (connection trouble, task failures) come through this logger too,
      // as JSON lines like the rest, instead of raw text on the console.
      telemetryOptions: {
        logging: { filter: { core: level, other: 'ERROR' }, forward: {} },
        ...(options.metricsPort
          ? {
              metrics: {
                prometheus: {
                  bindAddress: `0.0.0.0:${options.metricsPort}`,
                  countersTotalSuffix: true,
                  useSecondsForDurations: true,
                },
              },
            }
          : {}),
      },
      logger: new DefaultLogger(level, ({ level, message, meta }) => {
        const source = `${String(meta?.sdkComponent)} ${String(meta?.target ?? '')}`;
        if (level === 'WARN' && !repeats.admit(source, message)) return;
        const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level];
        sdk[method](meta ?? {}, message);
      }),
    });
  } catch (err) {
    if ((err as Error).name !== 'IllegalStateError') throw err;
  }
  return { flush: () => repeats.flush() };
}
