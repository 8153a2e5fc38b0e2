import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config-error';
import { databaseVariables, postgresTimeouts, type PostgresTimeouts } from './database';
import { httpVariables, type TrustProxy } from './http';
import { loggingVariables, type LogLevel } from './logging';
import { natsVariables } from './nats';
import { orderVariables } from './orders';
import { outboxVariables } from './outbox';
import { serverVariables } from './server';
import { temporalConfig, temporalVariables, type TemporalConfig } from './temporal';
import { tracingConfig, tracingVariables, type TracingConfig } from './tracing';

export { ConfigError } from './config-error';
export { DEFAULT_TRUST_PROXY, type TrustProxy } from './http';
export { DEFAULT_POSTGRES_TIMEOUTS, type PostgresTimeouts } from './database';
export type { LogLevel } from './logging';
export { DEFAULT_MAX_CACHED_WORKFLOWS, DEFAULT_TEMPORAL_CALL_TIMEOUT_MS, type TemporalConfig } from './temporal';
export type { TracingConfig } from './tracing';

/**
 * The one config module: every setting comes from the environment, is parsed once at start-up,
 * and fails fast with a message that names the variable. Temporal's connection follows Temporal's
 * own conventions (@temporalio/envconfig): TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TEMPORAL_TLS_*, and profiles from a TOML file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE).
 */
const schema = z.object({
  ...serverVariables.shape,
  ...natsVariables.shape,
  ...temporalVariables.shape,
  ...databaseVariables.shape,
  ...orderVariables.shape,
  ...outboxVariables.shape,
  ...httpVariables.shape,
  ...loggingVariables.shape,
  ...tracingVariables.shape,
});

/** The service's own variables (README's table), for launchers that pass them on (`npm run cluster`). */
export const serviceVariableNames = (): string[] => Object.keys(schema.shape);

export type Config = Readonly<{
  port: number;
  /** The worker's /healthz and /readyz; 0 turns them off. */
  workerHealthPort: number;
  jwtKey: string;
  nats: { url: string; stream: string; streamReplicas: number };
  temporal: TemporalConfig;
  /** PostgreSQL's `timeouts`: loadConfig always sets them; a store opened without them gets the defaults. */
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; timeouts?: PostgresTimeouts };
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

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || 'env'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const tracing = tracingConfig(e);
  return Object.freeze({
    port: e.PORT,
    workerHealthPort: e.WORKER_HEALTH_PORT,
    jwtKey: e.JWT_KEY,
    nats: { url: e.NATS_URL, stream: e.NATS_STREAM, streamReplicas: e.NATS_STREAM_REPLICAS },
    temporal: temporalConfig(env, e),
    database: e.DATABASE_URL
      ? { kind: 'postgres' as const, url: e.DATABASE_URL, timeouts: postgresTimeouts(e) }
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
    ...(tracing ? { tracing } : {}),
  });
}
