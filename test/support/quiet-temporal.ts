// The SDK's default logger prints every worker state change; tests keep only errors (expected activity failures log warnings).
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    // The native core warns, for instance, that the Java test server advertises no heartbeat capability.
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
} catch {
  // already installed in this jest worker
}
