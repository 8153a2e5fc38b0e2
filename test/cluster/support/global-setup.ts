/**
 * The cluster suite's one system: `npm run cluster` itself (scripts/cluster.ts), on free ports and a
 * fresh data folder, with the API and the worker compiled (`dist`) or from the image
 * (`CLUSTER_SERVICES=image`). Its supervisor starts again whatever a test kills; the tests find every
 * part in its processes.json, as an operator would. The teardown stops it with Ctrl-C's signal.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beginRun, describeProcesses } from '../../../scripts/lib/process-registry';
import { freePort, ROOT, spawnServer, type ServerProcess } from '../../../scripts/lib/servers';
import { eventually } from '../../../scripts/lib/eventually';
import { CLUSTER_JWT_KEY, CLUSTER_WINDOW_SECONDS } from './cluster';
import globalTeardown from './global-teardown';

declare global {
  var __TEST_CLUSTER__: { script: ServerProcess; dataDir: string } | undefined;
}

const ports = async (n: number) => Promise.all(Array.from({ length: n }, () => freePort()));

export default async function globalSetup(): Promise<void> {
  const { reaped } = await beginRun();
  if (reaped.length) console.warn(`Stopped what earlier runs left:\n${describeProcesses(reaped)}`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-cluster-'));
  fs.chmodSync(dataDir, 0o755); // embedded PostgreSQL runs as its own user, inside it
  const env = {
    ...process.env,
    CLUSTER_DATA_DIR: dataDir,
    CLUSTER_API_PORTS: (await ports(2)).join(','),
    CLUSTER_WORKER_HEALTH_PORTS: (await ports(2)).join(','),
    CLUSTER_NATS_PORTS: (await ports(3)).join(','),
    CLUSTER_NATS_ROUTE_PORTS: (await ports(3)).join(','),
    CLUSTER_NATS_MONITOR_PORTS: (await ports(3)).join(','),
    CLUSTER_TEMPORAL_PORT: String(await freePort()),
    CLUSTER_UI_PORT: String(await freePort()),
    CLUSTER_POSTGRES_PORT: String(await freePort()),
    ORDER_EXPIRATION_SECONDS: String(CLUSTER_WINDOW_SECONDS),
    JWT_KEY: CLUSTER_JWT_KEY,
    // The faults are the subject here, not the guards (test/api covers them): the retries of a client
    // behind a balancer go unthrottled, and a retry takes over the key of a killed API's POST in 5 s.
    RATE_LIMIT_PER_MINUTE: '0',
    RATE_LIMIT_PER_IP_PER_MINUTE: '0',
    IDEMPOTENCY_LEASE_SECONDS: '5',
  };
  const args = [path.join(ROOT, 'scripts', 'cluster.ts'), '--no-build'];
  if (process.env.CLUSTER_SERVICES === 'image') args.push('--image');
  const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
  const script = spawnServer('npm run cluster', tsx, args, { logFile: path.join(dataDir, 'cluster.log') }, env);
  globalThis.__TEST_CLUSTER__ = { script, dataDir };
  process.env.TEST_CLUSTER_STATE = path.join(dataDir, 'processes.json');
  try {
    const started = await eventually(
      async () =>
        script.child.exitCode !== null ? 'exited' : fs.existsSync(process.env.TEST_CLUSTER_STATE!) || undefined,
      'npm run cluster to start every process and write processes.json',
      300_000,
    );
    if (started === 'exited') throw new Error(`npm run cluster exited:\n${script.lastOutput()}`);
  } catch (err) {
    await globalTeardown();
    throw err;
  }
}
