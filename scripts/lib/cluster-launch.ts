/**
 * `npm run cluster` (scripts/cluster.ts) started as a child on free ports and a fresh data folder,
 * as the cluster suite and the scale-out bench run it: they find every part in its processes.json,
 * as an operator would. stop() sends Ctrl-C's signal: the script stops the replicas, NATS,
 * Temporal and PostgreSQL, in that order.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually } from './eventually';
import { freePort, ROOT, spawnServer, type ServerProcess } from './servers';

export interface LaunchedCluster {
  script: ServerProcess;
  dataDir: string;
  /** Its processes.json. */
  stateFile: string;
  /** Stops it; the data folder goes too unless `keepData`. */
  stop: (keepData?: boolean) => Promise<void>;
}

export interface LaunchOptions {
  /** The script's and the services' settings (docs/configuration.md, CLUSTER_HISTORY_SHARDS...). */
  env: NodeJS.ProcessEnv;
  apis?: number;
  workers?: number;
  /** The API and worker from the project's image instead of dist/. */
  image?: boolean;
}

const ports = async (n: number) => (await Promise.all(Array.from({ length: n }, () => freePort()))).join(',');

export async function launchCluster(o: LaunchOptions): Promise<LaunchedCluster> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-cluster-'));
  fs.chmodSync(dataDir, 0o755); // embedded PostgreSQL runs as its own user, inside it
  const env = {
    ...o.env,
    CLUSTER_DATA_DIR: dataDir,
    CLUSTER_API_PORTS: await ports(o.apis ?? 2),
    CLUSTER_WORKER_HEALTH_PORTS: await ports(o.workers ?? 2),
    CLUSTER_NATS_PORTS: await ports(3),
    CLUSTER_NATS_ROUTE_PORTS: await ports(3),
    CLUSTER_NATS_MONITOR_PORTS: await ports(3),
    CLUSTER_TEMPORAL_PORT: await ports(1),
    CLUSTER_UI_PORT: await ports(1),
    CLUSTER_POSTGRES_PORT: await ports(1),
  };
  const args = [path.join(ROOT, 'scripts', 'cluster.ts'), '--no-build', ...(o.image ? ['--image'] : [])];
  const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
  const script = spawnServer('npm run cluster', tsx, args, { logFile: path.join(dataDir, 'cluster.log') }, env);
  const stateFile = path.join(dataDir, 'processes.json');
  const stop = async (keepData = false) => {
    await script.stop(120_000);
    if (!keepData) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const started = await eventually(
      async () => (script.child.exitCode !== null ? 'exited' : fs.existsSync(stateFile) || undefined),
      'npm run cluster to start every process and write processes.json',
      300_000,
    );
    if (started === 'exited') throw new Error(`npm run cluster exited:\n${script.lastOutput()}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { script, dataDir, stateFile, stop };
}
