import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SearchAttributes } from '../../src/workflows/shared';
import { trackChildren } from '../../scripts/lib/process-registry';
import { ROOT } from '../../scripts/lib/servers';

/**
 * Temporal's time-skipping test server, the Java build from Maven Central (scripts/setup.sh):
 * the SDK's own download of a native build is not reachable here. It takes no flags, so the
 * search attributes are registered through its operator API. The SDK does not tell its pid: it is
 * registered with the test run as the child of this process that runs it.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: {
      executable: { type: 'existing-path', path: path.join(ROOT, '.tools', 'test-server', 'temporal-test-server') },
    },
  });
  trackChildren('io.temporal.testserver.TestServer', 'temporal-test-server');
  await env.connection.operatorService
    .addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(Object.values(SearchAttributes).map((k) => [k.name, 2 /* KEYWORD */])),
    })
    .catch(async (err: unknown) => {
      await env.teardown();
      throw err;
    });
  return env;
}
