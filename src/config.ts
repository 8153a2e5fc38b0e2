import path from 'node:path';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import express from 'express';
import { z } from 'zod';
import { DEFAULT_EXPIRING_REMINDER_SECONDS } from './orders/order';

/**
 * The one config module: every setting comes from the environment, is parsed once at start-up,
 * and fails fast with a message that names the variable. Temporal's connection follows Temporal's
 * own conventions (@temporalio/envconfig): TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TEMPORAL_TLS_*, and profiles from a TOML file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE).
 */
const port = z.coerce.number().int().min(0).max(65535);
/** Requests a minute; 0 turns the limit off. */
const perMinute = z.coerce.number().int().min(0).max(1_000_000);

/** Express's `trust proxy`: true/false, a hop count, or a comma-separated list of addresses, subnets and names. */
export type TrustProxy = boolean | number | string;
export const DEFAULT_TRUST_PROXY = 'loopback, linklocal, uniquelocal';

const trustProxy = z
  .string()
  .trim()
  .min(1)
  .default(DEFAULT_TRUST_PROXY)
  .transform((v): TrustProxy => (v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v))
  .superRefine((value, ctx) => {
    try {
      // Express compiles the value (proxy-addr) when it is set: an address it cannot parse throws here, at start.
      express().set('trust proxy', value);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: `TRUST_PROXY: ${(err as Error).message} (true, false, a hop count, or addresses, subnets and loopback/linklocal/uniquelocal)`,
      });
    }
  });

/** An http(s) URL: where spans are sent. */
function httpUrl(name: string) {
  return z.url({ protocol: /^https?$/, error: `${name} must be an http:// or https:// URL` });
}

const schema = z.object({
  PORT: port.default(3000),
  WORKER_HEALTH_PORT: port.default(3001),
  JWT_KEY: z
    .string({ error: 'JWT_KEY is required: the HS256 secret shared with the auth service' })
    .min(1, 'JWT_KEY must not be empty'),
  /** One server, or a cluster's servers separated by commas (the client fails over between them). */
  NATS_URL: z
    .string()
    .regex(/^[^,\s]+(,[^,\s]+)*$/, 'NATS_URL must be a URL, or URLs separated by commas (no spaces)')
    .default('nats://127.0.0.1:4222'),
  NATS_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'NATS_STREAM may hold letters, digits, - and _ only')
    .default('ticketing'),
  /** Copies of the stream in a NATS cluster (3 survives one node down); set when the worker creates it, or scaled. */
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('orders'),
  TEMPORAL_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(200),
  /** The worker's SDK metrics (Rust core's Prometheus endpoint); 0: not exported. */
  TEMPORAL_METRICS_PORT: port.default(0),
  TEMPORAL_UI_URL: z.url().default('http://127.0.0.1:8233'),
  /** A prebuilt workflow bundle (production); unset, the worker bundles src/workflows at start. */
  WORKFLOW_BUNDLE: z.string().min(1).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL (leave it unset for embedded SQLite)')
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  ORDER_EXPIRATION_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .max(31 * 24 * 3600)
    .default(900),
  MAX_ACTIVE_ORDERS_PER_USER: z.coerce.number().int().min(1).max(1_000_000).default(10),
  // How long a POST holds its Idempotency-Key before a retry may take over (the attempt died).
  IDEMPOTENCY_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  // POST /api/orders/:orderId/extend: how many times, and by how much each time (at most a day).
  // Off by default: an extension bumps the order's version with `order:updated`, which the course's
  // services do not listen to, and their payments service then never finds its copy of the order
  // at `version - 1` on `order:cancelled` (README, "Running the course's services against this one").
  MAX_HOLD_EXTENSIONS: z.coerce.number().int().min(0).max(100).default(0),
  ORDER_EXTENSION_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .max(24 * 3600)
    .default(300),
  // order:expiring this long before an active order's deadline (0: off); at most a day.
  ORDER_EXPIRING_REMINDER_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 3600)
    .default(DEFAULT_EXPIRING_REMINDER_SECONDS),
  OUTBOX_POLL_MS: z.coerce.number().int().positive().default(100),
  // Published rows are kept this long, then deleted: long enough to look at recent events, and a
  // retried change finds its rows still there (see README); at most a year.
  OUTBOX_RETENTION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(366 * 24)
    .default(24),
  // Each worker's relay claims the oldest unsent rows for this long (README, "Claiming"): a relay
  // that dies holds them this long at most. It publishes from a claim for half of it, and a publish
  // waits up to 5 s for its ack: so 10 s at least.
  OUTBOX_CLAIM_SECONDS: z.coerce.number().int().min(10).max(600).default(30),
  // A whole request, headers and body, must arrive within this (slow or stalled clients hold no connection longer).
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  // Request line plus headers (cookies included); a larger request is refused with 431.
  MAX_HEADER_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(16 * 1024),
  RATE_LIMIT_PER_MINUTE: perMinute.default(300),
  // Higher than per user: many users may share one address (a NAT, an office, a mobile carrier).
  RATE_LIMIT_PER_IP_PER_MINUTE: perMinute.default(1200),
  TRUST_PROXY: trustProxy,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  // OpenTelemetry tracing (the standard OTEL_* names): unset or `none`, no SDK is loaded at all.
  OTEL_TRACES_EXPORTER: z
    .enum(['otlp', 'zipkin', 'none'], { error: 'OTEL_TRACES_EXPORTER must be otlp, zipkin or none (unset: off)' })
    .optional(),
  OTEL_SERVICE_NAME: z.string().trim().min(1).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT').optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT').optional(),
  OTEL_EXPORTER_ZIPKIN_ENDPOINT: httpUrl('OTEL_EXPORTER_ZIPKIN_ENDPOINT').optional(),
});

export type LogLevel = z.infer<typeof schema>['LOG_LEVEL'];

/** The service's own variables (README's table), for launchers that pass them on (`npm run cluster`). */
export const serviceVariableNames = (): string[] => Object.keys(schema.shape);

export type Config = Readonly<{
  port: number;
  /** The worker's /healthz and /readyz; 0 turns them off. */
  workerHealthPort: number;
  jwtKey: string;
  nats: { url: string; stream: string; streamReplicas: number };
  temporal: TemporalConfig;
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  orderExpirationSeconds: number;
  /** The hold limit: a user's active orders at once. */
  maxActiveOrdersPerUser: number;
  /** An Idempotency-Key's lease: a retry within it gets 409, after it takes over. */
  idempotencyLeaseSeconds: number;
  /** Fixed in each new order: the API puts it in the workflow's input (the worker reads nothing). */
  holdPolicy: { maxExtensions: number; extensionSeconds: number };
  /** `order:expiring` this long before an active order's deadline (0: off); in each order's workflow input too. */
  expiringReminderSeconds: number;
  outboxPollMs: number;
  outboxRetentionHours: number;
  outboxClaimSeconds: number;
  workflowBundle?: string;
  /** The API server's limits on what a client sends. */
  http: { requestTimeoutMs: number; maxHeaderBytes: number };
  /** Requests a minute per user (after authentication) and per client address (before it); 0: off. */
  rateLimits: { perUserPerMinute: number; perIpPerMinute: number };
  /** Which proxies' X-Forwarded-For is believed for the client's address (the per-IP limit's key). */
  trustProxy: TrustProxy;
  log: { level: LogLevel; format: 'json' | 'pretty' };
  /** Where spans go (OTEL_TRACES_EXPORTER); absent: tracing is off, and no OpenTelemetry SDK is loaded. */
  tracing?: TracingConfig;
}>;

export interface TracingConfig {
  exporter: 'otlp' | 'zipkin';
  /** The full URL spans are sent to (OTLP over HTTP, JSON: .../v1/traces; Zipkin: .../api/v2/spans). */
  endpoint: string;
  /** OTEL_SERVICE_NAME; unset, each process names itself (`orders-api`, `orders-worker`). */
  serviceName?: string;
}

const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';
const DEFAULT_ZIPKIN_ENDPOINT = 'http://localhost:9411/api/v2/spans';

export interface TemporalConfig {
  /** What NativeConnection.connect takes: address, TLS (files already read), API key, gRPC metadata. */
  connection: NativeConnectionOptions & { address: string };
  namespace: string;
  taskQueue: string;
  maxCachedWorkflows: number;
  /** The worker's SDK metrics on this port's /metrics (the Rust core's Prometheus exporter); 0: off. */
  metricsPort: number;
  uiUrl: string;
  /** How the connection is made, in words, for logs and for the error when it fails. */
  description: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || 'env'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    port: e.PORT,
    workerHealthPort: e.WORKER_HEALTH_PORT,
    jwtKey: e.JWT_KEY,
    nats: { url: e.NATS_URL, stream: e.NATS_STREAM, streamReplicas: e.NATS_STREAM_REPLICAS },
    temporal: {
      ...temporalConnection(env),
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      maxCachedWorkflows: e.TEMPORAL_MAX_CACHED_WORKFLOWS,
      metricsPort: e.TEMPORAL_METRICS_PORT,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/$/, ''),
    },
    database: e.DATABASE_URL
      ? { kind: 'postgres' as const, url: e.DATABASE_URL }
      : { kind: 'sqlite' as const, file: path.resolve(e.DATA_DIR, 'orders.sqlite') },
    orderExpirationSeconds: e.ORDER_EXPIRATION_SECONDS,
    maxActiveOrdersPerUser: e.MAX_ACTIVE_ORDERS_PER_USER,
    idempotencyLeaseSeconds: e.IDEMPOTENCY_LEASE_SECONDS,
    holdPolicy: { maxExtensions: e.MAX_HOLD_EXTENSIONS, extensionSeconds: e.ORDER_EXTENSION_SECONDS },
    expiringReminderSeconds: e.ORDER_EXPIRING_REMINDER_SECONDS,
    outboxPollMs: e.OUTBOX_POLL_MS,
    outboxRetentionHours: e.OUTBOX_RETENTION_HOURS,
    outboxClaimSeconds: e.OUTBOX_CLAIM_SECONDS,
    ...(e.WORKFLOW_BUNDLE ? { workflowBundle: path.resolve(e.WORKFLOW_BUNDLE) } : {}),
    http: { requestTimeoutMs: e.REQUEST_TIMEOUT_MS, maxHeaderBytes: e.MAX_HEADER_BYTES },
    rateLimits: { perUserPerMinute: e.RATE_LIMIT_PER_MINUTE, perIpPerMinute: e.RATE_LIMIT_PER_IP_PER_MINUTE },
    trustProxy: e.TRUST_PROXY,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    ...(e.OTEL_TRACES_EXPORTER && e.OTEL_TRACES_EXPORTER !== 'none'
      ? {
          tracing: {
            exporter: e.OTEL_TRACES_EXPORTER,
            // The specification's rule: the per-signal variable is the URL as it is; the general one gets /v1/traces.
            endpoint:
              e.OTEL_TRACES_EXPORTER === 'zipkin'
                ? (e.OTEL_EXPORTER_ZIPKIN_ENDPOINT ?? DEFAULT_ZIPKIN_ENDPOINT)
                : (e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
                  `${(e.OTEL_EXPORTER_OTLP_ENDPOINT ?? DEFAULT_OTLP_ENDPOINT).replace(/\/$/, '')}/v1/traces`),
            ...(e.OTEL_SERVICE_NAME ? { serviceName: e.OTEL_SERVICE_NAME } : {}),
          },
        }
      : {}),
  });
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
