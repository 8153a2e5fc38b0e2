// The SDK's default logger prints every worker state change; tests keep only errors (expected activity failures log warnings).
import { DefaultLogger, Runtime } from '@temporalio/worker';

try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // already installed in this jest worker
}
