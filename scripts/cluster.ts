/**
 * `npm run cluster`: the production topology on this machine (docs/deploy.md, "The cluster").
 * PostgreSQL, the full Temporal server as separate frontend, history, matching and worker processes
 * (+ its Web UI), a 3-node NATS cluster with a 3-replica stream, two API and two worker replicas.
 * It supervises them: a process that dies is started again on its ports. Ctrl-C stops everything;
 * `.data/cluster/` keeps every order, timer and event for the next run.
 * `npm run cluster -- --image` runs the API and the worker as containers of the project's image;
 * `--no-build` starts the dist/ (or the image) already built.
 */
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, serviceVariableNames } from '../src/config';
import { HISTORY_DEFAULT_SHARDS, startCluster, type Cluster, type ClusterPorts } from './lib/cluster';
import { DEV_JWT_KEY } from './lib/dev-defaults';
import { isRunning } from './lib/process-registry';
import { runWithResources } from './lib/resources';
import { isPortOpen, ROOT } from './lib/servers';
import { buildDist } from './lib/service-processes';
import { prepareImage } from './lib/cluster-services';

const c = { dim: '\x1b[2m', bold: '\x1b[1m', cyan: '\x1b[36m', yellow: '\x1b[33m', red: '\x1b[31m', reset: '\x1b[0m' };
const say = (msg: string) => console.log(`${c.cyan}[cluster]${c.reset} ${msg}`);

/** A comma list of `min` to `max` ports. */
const ports = (min: number, max = min) =>
  z
    .string()
    .transform((v) => v.split(',').map(Number))
    .refine(
      (list) =>
        list.length >= min && list.length <= max && list.every((p) => Number.isInteger(p) && p > 0 && p < 65536),
      { message: min === max ? `${min} ports separated by commas` : `${min} to ${max} ports separated by commas` },
    );
const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** The script's own settings; the services' settings are docs/configuration.md (ORDER_EXPIRATION_SECONDS, JWT_KEY, ...). */
const settings = z.object({
  /** One replica per port: two by default, as the cluster's tests run it (the scale-out bench runs one worker too). */
  CLUSTER_API_PORTS: ports(1, 8).default([3000, 3002]),
  CLUSTER_WORKER_HEALTH_PORTS: ports(1, 8).default([3001, 3003]),
  CLUSTER_NATS_PORTS: ports(3).default([4222, 4223, 4224]),
  /** Unset: each NATS node's route port and monitoring port are its client port + 2000 and + 4000. */
  CLUSTER_NATS_ROUTE_PORTS: ports(3).optional(),
  CLUSTER_NATS_MONITOR_PORTS: ports(3).optional(),
  CLUSTER_TEMPORAL_PORT: port(7233),
  CLUSTER_UI_PORT: port(8233),
  CLUSTER_POSTGRES_PORT: port(5433),
  /** Fixed when Temporal's database is created: a later run with another count is refused by Temporal. */
  CLUSTER_HISTORY_SHARDS: z.coerce.number().int().min(1).max(16384).default(HISTORY_DEFAULT_SHARDS),
  CLUSTER_DATA_DIR: z.string().min(1).default('.data/cluster'),
  ORDER_EXPIRATION_SECONDS: z.coerce.number().int().min(1).default(900),
  JWT_KEY: z.string().min(1).default(DEV_JWT_KEY),
});

function readSettings() {
  const parsed = settings.safeParse(process.env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`);
  throw new ConfigError(`Invalid cluster settings:\n${lines.join('\n')}`);
}

runWithResources(async (resources) => {
  const e = readSettings();
  const image = process.argv.includes('--image');
  const clusterPorts: ClusterPorts = {
    postgres: e.CLUSTER_POSTGRES_PORT,
    temporalFrontend: e.CLUSTER_TEMPORAL_PORT,
    ui: e.CLUSTER_UI_PORT,
    apis: e.CLUSTER_API_PORTS,
    workerHealth: e.CLUSTER_WORKER_HEALTH_PORTS,
    nats: e.CLUSTER_NATS_PORTS.map((client, i) => ({
      client,
      cluster: e.CLUSTER_NATS_ROUTE_PORTS?.[i] ?? client + 2000,
      monitor: e.CLUSTER_NATS_MONITOR_PORTS?.[i] ?? client + 4000,
    })),
  };
  await refuseTakenPorts(clusterPorts);
  const dataDir = path.resolve(ROOT, e.CLUSTER_DATA_DIR);
  const startedAt = Date.now();
  if (!process.argv.includes('--no-build')) {
    if (image) await prepareImage(say);
    else await buildDist(resources, say);
  }
  const replicas = `${e.CLUSTER_WORKER_HEALTH_PORTS.length} workers, ${e.CLUSTER_API_PORTS.length} APIs`;
  say(`starting PostgreSQL, Temporal (${e.CLUSTER_HISTORY_SHARDS} history shards), 3 NATS nodes, ${replicas}`);
  const cluster = await startCluster({
    dataDir,
    ports: clusterPorts,
    jwtKey: e.JWT_KEY,
    windowSeconds: e.ORDER_EXPIRATION_SECONDS,
    historyShards: e.CLUSTER_HISTORY_SHARDS,
    services: image ? 'image' : 'dist',
    logs: 'files',
    // the service's own settings from this environment (LOG_LEVEL, MAX_ACTIVE_ORDERS_PER_USER, ...), as `npm run dev` passes them
    serviceEnv: Object.fromEntries(
      serviceVariableNames().flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])),
    ),
  });
  resources.add('the cluster', () => cluster.stop());
  const stateFile = path.join(dataDir, 'processes.json');
  cluster.writeState(stateFile);
  printSummary(cluster, {
    stateFile,
    dataDir,
    seconds: (Date.now() - startedAt) / 1000,
    jwtFromEnv: !!process.env.JWT_KEY,
  });
  await supervise(cluster, stateFile, () => resources.stopping);
}, say);

async function refuseTakenPorts(p: ClusterPorts): Promise<void> {
  const all = [
    p.postgres,
    p.temporalFrontend,
    p.ui,
    ...p.apis,
    ...p.workerHealth,
    ...p.nats.flatMap((n) => Object.values(n)),
  ];
  for (const taken of all.filter((x) => x > 0)) {
    if (await isPortOpen(taken)) {
      throw new ConfigError(
        `Port ${taken} is already in use. Is \`npm run dev\` or another \`npm run cluster\` running? Stop it, or set CLUSTER_*_PORT(S) (docs/deploy.md).`,
      );
    }
  }
}

/** Starts again whatever dies (kill -9, a crash), on its ports, until Ctrl-C; the state file follows. */
async function supervise(cluster: Cluster, stateFile: string, stopping: () => boolean): Promise<void> {
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    if (stopping()) return;
    for (const p of cluster.processes()) {
      if (p.pid !== undefined && isRunning({ pid: p.pid })) continue;
      say(`${c.yellow}${p.name} (pid ${p.pid ?? '?'}) is gone; starting it again${c.reset}`);
      try {
        await cluster.restart(p.name);
        cluster.writeState(stateFile);
        say(`${p.name} is back (pid ${cluster.processes().find((q) => q.name === p.name)?.pid})`);
      } catch (err) {
        if (stopping()) return;
        say(`${c.red}${p.name} did not come back: ${(err as Error).message}; trying again${c.reset}`);
      }
    }
  }
}

function printSummary(
  cluster: Cluster,
  o: { stateFile: string; dataDir: string; seconds: number; jwtFromEnv: boolean },
): void {
  const rows = cluster.processes().map((p) => {
    const where = Object.entries(p.ports)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    return `  ${p.name.padEnd(18)} pid ${String(p.pid ?? '?').padEnd(8)} ${where}`;
  });
  const rel = (f: string) => path.relative(ROOT, f);
  console.log(`
${c.bold}The cluster is running${c.reset} (up in ${o.seconds.toFixed(0)} s).
  API             ${cluster.apiUrls.map((u) => `${u}/api/orders`).join('  ')}
  Temporal        ${cluster.temporalAddress}${cluster.uiUrl ? `   Web UI ${cluster.uiUrl}/namespaces/default/workflows` : ''}
  NATS            ${cluster.natsUrl} (stream "ticketing", 3 replicas)
  Database        ${cluster.databaseUrl}
  JWT secret      ${o.jwtFromEnv ? '(from JWT_KEY)' : `${c.yellow}${DEV_JWT_KEY}${c.reset} ${c.dim}(development value)${c.reset}`}
${rows.join('\n')}
${c.dim}Processes: ${rel(o.stateFile)}   logs: ${rel(path.join(o.dataDir, 'logs'))}/
Kill any one of them: it is started again, and no order or event is lost. Ctrl-C stops everything.${c.reset}
`);
}
