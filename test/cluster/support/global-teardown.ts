import { describeProcesses, endRun } from '../../../scripts/lib/process-registry';

export default async function globalTeardown(): Promise<void> {
  const cluster = globalThis.__TEST_CLUSTER__;
  if (cluster) {
    const keep = !!process.env.KEEP_CLUSTER_DATA;
    await cluster.stop(keep);
    if (keep) console.warn(`cluster data and logs kept in ${cluster.dataDir}`);
  }
  const left = await endRun();
  if (left.length) console.warn(`The teardown stopped what the cluster left running:\n${describeProcesses(left)}`);
}
