import fs from 'node:fs';
import { describeProcesses, endRun } from '../../../scripts/lib/process-registry';

export default async function globalTeardown(): Promise<void> {
  const run = globalThis.__TEST_CLUSTER__;
  if (run) {
    // Ctrl-C's signal: the script stops the replicas, NATS, Temporal and PostgreSQL, in that order.
    await run.script.stop(120_000);
    if (process.env.KEEP_CLUSTER_DATA) console.warn(`cluster data and logs kept in ${run.dataDir}`);
    else fs.rmSync(run.dataDir, { recursive: true, force: true });
  }
  const left = await endRun();
  if (left.length) console.warn(`The teardown stopped what the cluster left running:\n${describeProcesses(left)}`);
}
