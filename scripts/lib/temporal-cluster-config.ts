/**
 * What the full Temporal server (scripts/lib/temporal-cluster.ts) runs with: its binaries in
 * `.tools/temporal-server` (scripts/setup.sh --cluster), its services' ports and its config files.
 * JSON is YAML, so the config files are written as JSON.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, freePort } from './servers';

export const TEMPORAL_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];
export interface ServicePorts {
  grpc: number;
  membership: number;
  /** The frontend's HTTP API (Nexus, the HTTP gateway); only the frontend has one. */
  http?: number;
}
export interface PostgresEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
}

export const TEMPORAL_SERVER_HOME = path.join(ROOT, '.tools', 'temporal-server');

export function temporalServerTool(name: 'temporal-server' | 'temporal-sql-tool' | 'temporal-ui-server'): string {
  const file = path.join(TEMPORAL_SERVER_HOME, 'bin', name);
  if (!fs.existsSync(file)) throw new Error(`${name} is not installed: run \`bash scripts/setup.sh --cluster\``);
  return file;
}

/**
 * The highest membership port: each service writes its own into cluster_membership.rpc_port, a
 * SMALLINT in PostgreSQL, so the ephemeral ports freePort() gives (32768 and up on Linux) fail there.
 */
export const MAX_MEMBERSHIP_PORT = 32_767;

/** A port below MAX_MEMBERSHIP_PORT that nothing listens on now, and not one of `taken`. */
async function freeMembershipPort(taken: number[]): Promise<number> {
  const canListen = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer().once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * (MAX_MEMBERSHIP_PORT - 20_000));
    if (!taken.includes(port) && (await canListen(port))) return port;
  }
  throw new Error(`no free port between 20000 and ${MAX_MEMBERSHIP_PORT} for Temporal's membership`);
}

/** Each service's ports: the given ones, and free ones for the others. */
export async function allocatePorts(
  frontendPort: number,
  given: Partial<Record<TemporalService, Partial<ServicePorts>>> = {},
): Promise<Record<TemporalService, ServicePorts>> {
  const ports = {} as Record<TemporalService, ServicePorts>;
  const taken = Object.values(given).flatMap((p) => (p.membership ? [p.membership] : []));
  for (const service of TEMPORAL_SERVICES) {
    const mine = given[service] ?? {};
    const membership = mine.membership ?? (await freeMembershipPort(taken));
    if (membership > MAX_MEMBERSHIP_PORT)
      throw new Error(`${service}'s membership port is above ${MAX_MEMBERSHIP_PORT}`);
    taken.push(membership);
    const grpc = service === 'frontend' ? frontendPort : (mine.grpc ?? (await freePort()));
    ports[service] = { grpc, membership, ...(service === 'frontend' ? { http: mine.http ?? (await freePort()) } : {}) };
  }
  return ports;
}

export interface ClusterConfigFiles {
  /** The server's config file, for `temporal-server --config-file`. */
  server: string;
  /** The UI server's config folder (relative to the data dir) and environment: `--root dataDir --config ui --env cluster`. */
  ui: { root: string; config: string; env: string };
}

/**
 * Writes the server's config (development-postgres12.yaml of the server's module, with the given
 * ports, each service on 127.0.0.1, no metrics or pprof listeners, which would collide between the
 * processes), its dynamic config, and the UI server's config into `dataDir`.
 */
export function writeClusterConfig(o: {
  dataDir: string;
  postgres: PostgresEndpoint;
  ports: Record<TemporalService, ServicePorts>;
  historyShards: number;
  namespace: string;
  uiPort?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}): ClusterConfigFiles {
  fs.mkdirSync(path.join(o.dataDir, 'ui'), { recursive: true });
  const write = (file: string, config: object) =>
    fs.writeFileSync(
      path.join(o.dataDir, file),
      `# Written by scripts/lib/temporal-cluster-config.ts at every start (JSON is YAML)\n${JSON.stringify(config, null, 2)}\n`,
    );
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${o.postgres.host}:${o.postgres.port}`,
      connectProtocol: 'tcp',
      user: o.postgres.user,
      password: o.postgres.password,
      // Four processes share the PostgreSQL's connections (100 by default): (10 + 4) each.
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const frontend = `127.0.0.1:${o.ports.frontend.grpc}`;
  const dynamicConfig = path.join(o.dataDir, 'dynamicconfig.yaml');
  write('dynamicconfig.yaml', {
    'frontend.enableServerVersionCheck': [{ value: false }], // it would call Temporal's servers
  });
  write('temporal.yaml', {
    log: { stdout: true, level: o.logLevel ?? 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      // Fixed by the first start on the databases: later the server keeps that count, and warns.
      numHistoryShards: o.historyShards,
      datastores: {
        'postgres-default': datastore('temporal', 10),
        'postgres-visibility': datastore('temporal_visibility', 4),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: Object.fromEntries(
      Object.entries(o.ports).map(([service, ports]) => [
        service,
        {
          rpc: {
            grpcPort: ports.grpc,
            membershipPort: ports.membership,
            bindOnIP: '127.0.0.1',
            ...(ports.http ? { httpPort: ports.http } : {}),
          },
        },
      ]),
    ),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: frontend },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfig, pollInterval: '10s' },
  });
  write(path.join('ui', 'cluster.yaml'), {
    temporalGrpcAddress: frontend,
    host: '127.0.0.1',
    port: o.uiPort ?? 0,
    enableUi: true,
    defaultNamespace: o.namespace,
    cors: { cookieInsecure: true }, // plain HTTP on 127.0.0.1
    disableNewsFetch: true,
    hideLogs: true,
  });
  return {
    server: path.join(o.dataDir, 'temporal.yaml'),
    ui: { root: o.dataDir, config: 'ui', env: 'cluster' },
  };
}
