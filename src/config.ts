import path from 'node:path';
import { z } from 'zod';

/**
 * The one config module: every setting comes from the environment, is parsed once at
 * start-up, and fails fast with a message that names the variable.
 */
const port = z.coerce.number().int().min(0).max(65535);

const schema = z
  .object({
    PORT: port.default(3000),
    WORKER_HEALTH_PORT: port.default(3001),
    JWT_KEY: z
      .string({ error: 'JWT_KEY is required: the HS256 secret shared with the auth service' })
      .min(1, 'JWT_KEY must not be empty'),
    NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
    NATS_STREAM: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'NATS_STREAM may hold letters, digits, - and _ only')
      .default('ticketing'),
    TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('orders'),
    TEMPORAL_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(200),
    TEMPORAL_API_KEY: z.string().min(1).optional(),
    TEMPORAL_TLS_CERT_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_KEY_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_CA_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
    TEMPORAL_UI_URL: z.string().url().default('http://127.0.0.1:8233'),
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
    OUTBOX_POLL_MS: z.coerce.number().int().positive().default(100),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((env) => !env.TEMPORAL_TLS_CERT_PATH === !env.TEMPORAL_TLS_KEY_PATH, {
    message: 'TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH go together: set both or neither',
    path: ['TEMPORAL_TLS_CERT_PATH'],
  });

export type Config = Readonly<{
  port: number;
  /** The worker's /healthz and /readyz; 0 turns them off. */
  workerHealthPort: number;
  jwtKey: string;
  nats: { url: string; stream: string };
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    maxCachedWorkflows: number;
    uiUrl: string;
    apiKey?: string;
    tls?: { certPath?: string; keyPath?: string; caPath?: string; serverName?: string };
  };
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  orderExpirationSeconds: number;
  outboxPollMs: number;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
}>;

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
  const usesTls = Boolean(e.TEMPORAL_TLS_CERT_PATH || e.TEMPORAL_TLS_CA_PATH || e.TEMPORAL_API_KEY);
  return Object.freeze({
    port: e.PORT,
    workerHealthPort: e.WORKER_HEALTH_PORT,
    jwtKey: e.JWT_KEY,
    nats: { url: e.NATS_URL, stream: e.NATS_STREAM },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      maxCachedWorkflows: e.TEMPORAL_MAX_CACHED_WORKFLOWS,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/$/, ''),
      ...(e.TEMPORAL_API_KEY ? { apiKey: e.TEMPORAL_API_KEY } : {}),
      ...(usesTls
        ? {
            tls: {
              certPath: e.TEMPORAL_TLS_CERT_PATH,
              keyPath: e.TEMPORAL_TLS_KEY_PATH,
              caPath: e.TEMPORAL_TLS_CA_PATH,
              serverName: e.TEMPORAL_TLS_SERVER_NAME,
            },
          }
        : {}),
    },
    database: e.DATABASE_URL
      ? { kind: 'postgres' as const, url: e.DATABASE_URL }
      : { kind: 'sqlite' as const, file: path.resolve(e.DATA_DIR, 'orders.sqlite') },
    orderExpirationSeconds: e.ORDER_EXPIRATION_SECONDS,
    outboxPollMs: e.OUTBOX_POLL_MS,
    logLevel: e.LOG_LEVEL,
  });
}
