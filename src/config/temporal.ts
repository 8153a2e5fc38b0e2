import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { port } from './server';

/** The worker's own Temporal settings; the connection's are Temporal's standard variables (temporalConnection). */
export const temporalVariables = z.object({
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('orders'),
  /**
   * The sticky cache. 50 held the worker near 220 MB (docs/performance.md), but in the chaos
   * campaign on PostgreSQL it evicted workflows whose local step was still running, and three
   * orders' workflows failed ("Local Activity cancelled"): 200 until that is understood.
   */
  TEMPORAL_MAX_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    // 0 would turn the cache off, and the SDK's core evicts a workflow whose local step still runs
    .min(1, 'at least 1: the order steps are local activities, which need their workflow cached while they run')
    .default(200),
  /**
   * How long one workflow activation may run before the worker's VM stops it (the SDK's deadlock
   * detector; its default is 5 s). It is wall-clock time, so a worker stalled longer than this (a
   * paused container, a starved VM) is stopped mid-activation on resuming, and on Node 20 that ends
   * the whole process ("async hook stack has become corrupted": docs/operations.md). An order's
   * activation takes well under a millisecond, so a minute costs nothing but a slower alarm.
   */
  TEMPORAL_WORKFLOW_ACTIVATION_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(60),
  /** The worker's SDK metrics (Rust core's Prometheus endpoint); 0: not exported. */
  TEMPORAL_METRICS_PORT: port.default(0),
  TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
  /** A prebuilt workflow bundle (production); unset, the worker bundles src/workflows at start. */
  WORKFLOW_BUNDLE: z.string().min(1).optional(),
  /** Each start, update and signal of an order's workflow gets this long; past it, 503. */
  TEMPORAL_CALL_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
});

/** TEMPORAL_MAX_CACHED_WORKFLOWS's default, for the bench's own baseline worker. */
export const DEFAULT_MAX_CACHED_WORKFLOWS: number =
  temporalVariables.shape.TEMPORAL_MAX_CACHED_WORKFLOWS.parse(undefined);

/** TEMPORAL_CALL_TIMEOUT_MS's default, for adapters made without the config (tests, the bench). */
export const DEFAULT_TEMPORAL_CALL_TIMEOUT_MS: number =
  temporalVariables.shape.TEMPORAL_CALL_TIMEOUT_MS.parse(undefined);

export interface TemporalConfig {
  /** What NativeConnection.connect takes: address, TLS (files already read), API key, gRPC metadata. */
  connection: NativeConnectionOptions & { address: string };
  namespace: string;
  taskQueue: string;
  maxCachedWorkflows: number;
  /** The SDK's isolateExecutionTimeout: how long one workflow activation may run. */
  activationTimeoutMs: number;
  /** The worker's SDK metrics on this port's /metrics (the Rust core's Prometheus exporter); 0: off. */
  metricsPort: number;
  /** The deadline of each call to an order's workflow (start, update, signal). */
  callTimeoutMs: number;
  uiUrl: string;
  /** How the connection is made, in words, for logs and for the error when it fails. */
  description: string;
}

export function temporalConfig(env: NodeJS.ProcessEnv, e: z.infer<typeof temporalVariables>): TemporalConfig {
  return {
    ...temporalConnection(env),
    taskQueue: e.TEMPORAL_TASK_QUEUE,
    maxCachedWorkflows: e.TEMPORAL_MAX_CACHED_WORKFLOWS,
    activationTimeoutMs: e.TEMPORAL_WORKFLOW_ACTIVATION_TIMEOUT_SECONDS * 1000,
    metricsPort: e.TEMPORAL_METRICS_PORT,
    callTimeoutMs: e.TEMPORAL_CALL_TIMEOUT_MS,
    uiUrl: e.TEMPORAL_UI_URL.replace(/\/$/, ''),
  };
}

/** Names this service read before it adopted Temporal's own: refused, so a deployment cannot fall back to plain gRPC unnoticed. */
const RENAMED_TEMPORAL_VARIABLES: Record<string, string> = {
  TEMPORAL_TLS_CERT_PATH: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY_PATH: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  TEMPORAL_TLS_CA_PATH: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
};

/** Temporal's connection from its standard variables and profile file; certificate files are read here, at start. */
function temporalConnection(env: NodeJS.ProcessEnv): Pick<TemporalConfig, 'connection' | 'namespace' | 'description'> {
  const vars = Object.fromEntries(Object.entries(env).filter((kv): kv is [string, string] => kv[1] !== undefined));
  try {
    for (const [old, current] of Object.entries(RENAMED_TEMPORAL_VARIABLES)) {
      if (vars[old] !== undefined) throw new Error(`${old} is no longer read: use ${current} (Temporal's own name)`);
    }
    for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY']) {
      if (vars[name] === '') throw new Error(`${name} is set but empty: unset it or give it a value`);
    }
    const profile = loadClientConfigProfile({ overrideEnvVars: vars });
    const { clientCert, clientKey } = profile.tls ?? {};
    if (!clientCert !== !clientKey) {
      throw new Error(
        'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together: set both or neither',
      );
    }
    const { connectionOptions, namespace } = toClientOptions(profile);
    const address = connectionOptions.address ?? '127.0.0.1:7233';
    return {
      connection: { ...withoutUndefined(connectionOptions), address },
      namespace: namespace ?? 'default',
      description: `${address} over ${describeTls(connectionOptions, profile)}`,
    };
  } catch (err) {
    throw new ConfigError(
      `Invalid configuration:\n  - Temporal (TEMPORAL_* variables, profile file): ${(err as Error).message}`,
    );
  }
}

/** In words, from what the connection will actually use (the options), naming the files it came from (the profile). */
function describeTls({ tls, apiKey }: NativeConnectionOptions, profile: ClientConfigProfile): string {
  if (!tls) return `plain gRPC (no TLS${apiKey ? ', API key' : ''})`;
  const source = (s: { path: string } | { data: unknown } | undefined) => (s && 'path' in s ? s.path : 'inline data');
  const { serverCACert, clientCert, serverName } = profile.tls ?? {};
  return [
    'TLS',
    serverCACert ? `CA ${source(serverCACert)}` : 'system CAs',
    clientCert ? `client certificate ${source(clientCert)}` : 'no client certificate',
    serverName ? `server name ${serverName}` : undefined,
    apiKey ? 'API key' : undefined,
  ]
    .filter(Boolean)
    .join(', ');
}

const withoutUndefined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
