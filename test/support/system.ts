import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import pino, { type Logger } from 'pino';
import { startApi, type RunningApi } from '../../src/api/server';
import { loadConfig, type Config } from '../../src/config';
import { startWorker, type RunningWorker } from '../../src/worker';
import { requester, type Requester } from './api';
import { TEST_JWT_KEY } from './auth';
import { postgresStore, sqliteStore, type TestDatabase } from './database';
import { startTestNats, type TestNats } from './nats';
import { newId } from './orders';
import { startAll } from './start-all';

export interface TestSystem {
  config: Config;
  db: TestDatabase;
  nats: TestNats;
  worker: RunningWorker;
  api: RunningApi;
  request: Requester;
  stop(): Promise<void>;
}

/**
 * The whole service in-process on real servers: the run's Temporal dev server, its own
 * nats-server, and a real database (SQLite file or a PostgreSQL database).
 */
export async function startSystem(options: {
  database: 'sqlite' | 'postgres';
  expirationSeconds: number;
  /** More environment for the service's config (for example how to reach Temporal). */
  env?: Record<string, string>;
  /** The service's logger (default: silent, or TEST_LOG_LEVEL), for a test that reads what it logs. */
  logger?: Logger;
  /** Tracing on, both processes exporting to this (an InMemorySpanExporter); off when not given. */
  spanExporter?: SpanExporter;
}): Promise<TestSystem> {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  if (!address)
    throw new Error('TEST_TEMPORAL_ADDRESS is not set: the jest global setup starts the Temporal dev server');
  const [nats, db] = await startAll([
    [startTestNats(), (n) => n.stop()],
    [options.database === 'postgres' ? postgresStore() : sqliteStore(), (d) => d.cleanup()],
  ]);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-e2e-'));
  const config = loadConfig({
    JWT_KEY: TEST_JWT_KEY,
    PORT: '0',
    WORKER_HEALTH_PORT: '0',
    NATS_URL: nats.url,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_UI_URL: process.env.TEST_TEMPORAL_UI_URL,
    TEMPORAL_TASK_QUEUE: `orders-e2e-${newId()}`,
    ORDER_EXPIRATION_SECONDS: String(options.expirationSeconds),
    OUTBOX_POLL_MS: '50',
    // Off unless a test asks (options.env): the tests send many requests from one address.
    RATE_LIMIT_PER_MINUTE: '0',
    RATE_LIMIT_PER_IP_PER_MINUTE: '0',
    ...(db.config.kind === 'postgres' ? { DATABASE_URL: db.config.url } : { DATA_DIR: path.dirname(db.config.file) }),
    ...options.env,
  });
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let worker: RunningWorker | undefined;
  let api: RunningApi | undefined;
  const stop = async () => {
    await api?.stop();
    await worker?.stop();
    await Promise.all([nats.stop(), db.cleanup()]);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const tracing = options.spanExporter ? { spanExporter: options.spanExporter } : {};
    worker = await startWorker(config, logger, tracing);
    api = await startApi(config, logger, tracing);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    config,
    db,
    nats,
    worker,
    api,
    request: requester(`http://127.0.0.1:${api.port}`),
    stop,
  };
}
