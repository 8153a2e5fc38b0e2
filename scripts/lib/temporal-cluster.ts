/**
 * The full Temporal server, the one the temporalio/server image runs, on PostgreSQL, with each of its
 * four services in its own process as in production: frontend, history (with its shards), matching
 * and worker; and the Web UI server when asked. From `.tools/temporal-server` (scripts/setup.sh
 * --cluster). The services find each other through the membership table in PostgreSQL.
 */
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import { SearchAttributes } from '../../src/workflows/shared';
import { ServerExitedError, spawnServer, waitForPort, type ServerOutput, type ServerProcess } from './servers';
import {
  TEMPORAL_SERVICES,
  allocatePorts,
  temporalServerTool,
  writeClusterConfig,
  type PostgresEndpoint,
  type ServicePorts,
  type TemporalService,
} from './temporal-cluster-config';
import { clusterMetadataWritten, ensureTemporalSchema, pruneDeadMembers } from './temporal-cluster-database';

export { TEMPORAL_SERVICES, type PostgresEndpoint, type ServicePorts, type TemporalService };

export interface TemporalClusterOptions {
  postgres: PostgresEndpoint;
  /** Where the config files are written, anew at every start; the data itself is in PostgreSQL. */
  dataDir: string;
  frontendPort: number;
  /** Any other port; each one not given is a free port. Membership ports must be at most 32767. */
  ports?: Partial<Record<TemporalService, Partial<ServicePorts>>>;
  /** Default 4. Fixed by the first start on the databases: a later start with another count keeps the first (the server warns). */
  historyShards?: number;
  /** The Web UI's port; 0 or undefined: no UI. */
  uiPort?: number;
  /** Registered (idempotently) with the workflow's search attributes; default `default`. */
  namespace?: string;
  /** The namespace's retention of closed workflows, when it is created; default 1. */
  retentionDays?: number;
  /** Where each process's output goes, by its name (`temporal-history`, ...); default: only its tail is kept. */
  output?: (name: string) => ServerOutput;
  /** The services' log level (JSON lines on stdout); default warn. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long a start or a restart may take until the cluster answers; default 120 s. */
  readyTimeoutMs?: number;
}

export type TemporalServiceProcess = ServerProcess & { ports: ServicePorts };

export interface TemporalCluster {
  /** The frontend's gRPC address, `127.0.0.1:<frontendPort>`. */
  address: string;
  namespace: string;
  uiUrl?: string;
  /** The processes, each replaced by `restart`. */
  services: Record<TemporalService, TemporalServiceProcess>;
  ui?: ServerProcess;
  /** Starts the service again on the same ports (stopping it first if it still runs) and waits until the cluster answers. */
  restart(service: TemporalService): Promise<void>;
  /** The UI, the worker service, the frontend, then history and matching together. */
  stop(): Promise<void>;
}

const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;
const HEALTH_SERVING = 1;
/** Every service reads namespaces, and their search attributes, through a cache refreshed this often. */
const NAMESPACE_CACHE_REFRESH_MS = 2_000;
const PROBE = 'temporal-cluster-readiness-probe';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startTemporalCluster(o: TemporalClusterOptions): Promise<TemporalCluster> {
  const namespace = o.namespace ?? 'default';
  const readyTimeoutMs = o.readyTimeoutMs ?? 120_000;
  const ports = await allocatePorts(o.frontendPort, o.ports);
  await ensureTemporalSchema(o.postgres);
  await pruneDeadMembers(o.postgres);
  const files = writeClusterConfig({ ...o, ports, historyShards: o.historyShards ?? 4, namespace });
  const server = temporalServerTool('temporal-server');
  const start = (service: TemporalService): TemporalServiceProcess => {
    const args = ['--config-file', files.server, '--allow-no-auth', 'start', '--service', service];
    return {
      ...spawnServer(`temporal-${service}`, server, args, o.output?.(`temporal-${service}`)),
      ports: ports[service],
    };
  };
  const services: Partial<Record<TemporalService, TemporalServiceProcess>> = {};
  const address = `127.0.0.1:${o.frontendPort}`;
  const ready = () =>
    waitUntilReady(address, services as Record<TemporalService, TemporalServiceProcess>, readyTimeoutMs);

  let ui: ServerProcess | undefined;
  const stop = async () => {
    await ui?.stop();
    // The worker service first: one still starting holds a SIGTERM until its start, which needs
    // the others, is done. Then the frontend, so that no new request comes in.
    await services.worker?.stop();
    await services.frontend?.stop();
    await Promise.all(Object.values(services).map((service) => service.stop()));
  };
  try {
    // On new databases each process would write the cluster's metadata, and all but one would fail:
    // one goes first, and listens once it has (and the system namespaces too).
    if (!(await clusterMetadataWritten(o.postgres))) {
      const first = (services.history = start('history'));
      await waitForPort(first.ports.membership, first.name, readyTimeoutMs, first);
    }
    for (const service of TEMPORAL_SERVICES) services[service] ??= start(service);
    await ready();
    await untilDeadline(readyTimeoutMs, 'namespace registration', () => registerNamespace(address, namespace, o));
    if (o.uiPort) {
      const { root, config, env } = files.ui;
      const args = ['--root', root, '--config', config, '--env', env, 'start'];
      ui = spawnServer('temporal-ui', temporalServerTool('temporal-ui-server'), args, o.output?.('temporal-ui'));
      await waitForPort(o.uiPort, 'Temporal Web UI', 30_000, ui);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    namespace,
    ...(ui ? { ui, uiUrl: `http://127.0.0.1:${o.uiPort}` } : {}),
    services: services as Record<TemporalService, TemporalServiceProcess>,
    async restart(service) {
      await services[service]?.stop();
      services[service] = start(service);
      await ready();
    },
    stop,
  };
}

/** Retries `attempt` until it succeeds or `timeoutMs` has passed, then fails with its last error. */
async function untilDeadline(timeoutMs: number, what: string, attempt: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (err instanceof ServerExitedError) throw err;
      if (Date.now() > deadline) throw new Error(`Temporal cluster: ${what} failed within ${timeoutMs} ms: ${err}`);
    }
    await sleep(250);
  }
}

/** One short-lived connection to the frontend, without the SDK's retries: the callers retry. */
async function withFrontend<T>(address: string, fn: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = Connection.lazy({ address, interceptors: [] });
  try {
    return await connection.withDeadline(Date.now() + 10_000, () => fn(connection));
  } finally {
    await connection.close();
  }
}

/**
 * Each service listens, and the frontend answers through history (a workflow that is not there) and
 * matching (the owners of a task queue's partitions): open ports alone are not enough.
 */
async function waitUntilReady(
  address: string,
  services: Record<TemporalService, TemporalServiceProcess>,
  timeoutMs: number,
): Promise<void> {
  const started = Date.now();
  for (const service of Object.values(services)) {
    await waitForPort(service.ports.membership, service.name, timeoutMs - (Date.now() - started), service);
  }
  await untilDeadline(timeoutMs - (Date.now() - started), 'readiness', async () => {
    const exited = Object.values(services).find((service) => service.child.exitCode !== null);
    if (exited) throw new ServerExitedError(exited.name, exited);
    await withFrontend(address, async ({ healthService, workflowService }) => {
      const { status } = await healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' });
      if (status !== HEALTH_SERVING) throw new Error(`the frontend's health is ${status}`);
      const execution = { workflowId: PROBE };
      await workflowService.describeWorkflowExecution({ namespace: 'temporal-system', execution }).then(
        () => {},
        (err: unknown) => {
          if (!isGrpcServiceError(err) || err.code !== GRPC_NOT_FOUND) throw err;
        },
      );
      // Matching finds each partition's owner in its ring, without loading the partitions.
      await workflowService.listTaskQueuePartitions({ namespace: 'temporal-system', taskQueue: { name: PROBE } });
    });
  });
}

/** The namespace and the workflow's search attributes, each created only when missing. */
async function registerNamespace(address: string, namespace: string, o: TemporalClusterOptions): Promise<void> {
  const changed = await withFrontend(address, async ({ workflowService, operatorService }) => {
    let created = true;
    const workflowExecutionRetentionPeriod = msToTs((o.retentionDays ?? 1) * 86_400_000);
    await workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod }).catch((err: unknown) => {
      if (!isGrpcServiceError(err) || err.code !== GRPC_ALREADY_EXISTS) throw err;
      created = false;
    });
    const { customAttributes } = await operatorService.listSearchAttributes({ namespace });
    const missing = Object.values(SearchAttributes).filter((key) => !customAttributes?.[key.name]);
    if (missing.length > 0) {
      const searchAttributes = Object.fromEntries(
        missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
      );
      await operatorService.addSearchAttributes({ namespace, searchAttributes });
    }
    return created || missing.length > 0;
  });
  // So that a workflow started right away finds them in every service's cache.
  if (changed) await sleep(NAMESPACE_CACHE_REFRESH_MS + 500);
}
