/**
 * The cluster suite's one system: `npm run cluster` itself (scripts/lib/cluster-launch.ts), on free
 * ports and a fresh data folder, with the API and the worker compiled (`dist`) or from the image
 * (`CLUSTER_SERVICES=image`). Its supervisor starts again whatever a test kills; the tests find every
 * part in its processes.json, as an operator would.
 */
import { launchCluster, type LaunchedCluster } from '../../../scripts/lib/cluster-launch';
import { beginRun, describeProcesses } from '../../../scripts/lib/process-registry';
import { CLUSTER_JWT_KEY, CLUSTER_WINDOW_SECONDS } from './cluster';

declare global {
  var __TEST_CLUSTER__: LaunchedCluster | undefined;
}

export default async function globalSetup(): Promise<void> {
  const { reaped } = await beginRun();
  if (reaped.length) console.warn(`Stopped what earlier runs left:\n${describeProcesses(reaped)}`);
  const cluster = await launchCluster({
    image: process.env.CLUSTER_SERVICES === 'image',
    env: {
      ...process.env,
      ORDER_EXPIRATION_SECONDS: String(CLUSTER_WINDOW_SECONDS),
      JWT_KEY: CLUSTER_JWT_KEY,
      // The faults are the subject here, not the guards (test/api covers them): the retries of a client
      // behind a balancer go unthrottled, and a retry takes over the key of a killed API's POST in 5 s.
      RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_PER_IP_PER_MINUTE: '0',
      IDEMPOTENCY_LEASE_SECONDS: '5',
    },
  });
  globalThis.__TEST_CLUSTER__ = cluster;
  process.env.TEST_CLUSTER_STATE = cluster.stateFile;
}
