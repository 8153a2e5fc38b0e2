// The SDK's default logger prints every worker state change; tests keep only errors (expected activity failures log warnings).
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    // The native core warns, for instance, that the Java test server advertises no heartbeat capability.
    // (Not forwarded to the logger: forwarding holds a native handle that keeps jest from exiting.)
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
} catch {
  // already installed in this jest worker
}
