/**
 * The API process: the REST routes of the contract, over the database and Temporal.
 * Start: `npm run start:api`.
 */
import type { Server } from 'node:http';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import type { Config } from '../config';
import { databaseCheck, healthRoutes } from '../health';
import type { Logger } from '../logger';
import { orderMetrics } from '../metrics';
import { OrderService } from '../orders/order-service';
import { runProcess, startUp, type Running } from '../process';
import { openStore } from '../store';
import { connectTemporal } from '../temporal/connection';
import { temporalOrderWorkflows } from '../temporal/order-workflows';
import { installSdkRuntime } from '../temporal/runtime';
import { startTracing } from '../tracing';
import { buildApp } from './app';
import { IdempotentOrders } from './idempotency';
import { createHttpServer } from './http-server';
import { openRateLimits } from './rate-limits';

export interface RunningApi extends Running {
  server: Server;
  port: number;
  /** Stops accepting, lets in-flight requests finish, then closes; idempotent. */
  stop(): Promise<void>;
}

export interface ApiOptions {
  /** Traces to this exporter whatever the config says (tests: an in-memory one). */
  spanExporter?: SpanExporter;
}

export function startApi(config: Config, logger: Logger, options: ApiOptions = {}): Promise<RunningApi> {
  return startUp(logger, async (resources) => {
    // Before the app and its server exist: the HTTP and Express instrumentation patch them (tracing.ts).
    // Closed last: the spans of the requests drained on stop are flushed.
    const tracing = await startTracing(config.tracing, {
      serviceName: 'orders-api',
      instrumentHttp: true,
      ...(options.spanExporter ? { exporter: options.spanExporter } : {}),
    });
    if (tracing) resources.add('tracing', tracing, (t) => t.shutdown());
    // First: the Temporal connection would install the SDK's default runtime, which logs raw text.
    resources.add('Temporal SDK logs', installSdkRuntime(logger), (logs) => logs.flush());
    const store = resources.add('database', await openStore(config.database, logger, orderMetrics), (s) => s.close());
    // One Temporal connection per process, never one per request. The native (Rust core) connection
    // costs far less CPU per call than the pure-JS gRPC one, and the start is the API's hot path.
    const connection = resources.add('Temporal', await connectTemporal(config.temporal), (c) => c.close());
    // With tracing, a workflow's start carries the request's trace to the workflow (and so to its activities).
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      ...(tracing ? { plugins: [tracing.plugin] } : {}),
    });
    const orders = new OrderService({
      orders: store.orders,
      tickets: store.tickets,
      workflows: temporalOrderWorkflows(client, config.temporal.taskQueue, {
        callTimeoutMs: config.temporal.callTimeoutMs,
      }),
      expirationSeconds: config.orderExpirationSeconds,
      maxActiveOrdersPerUser: config.maxActiveOrdersPerUser,
      holdPolicy: config.holdPolicy,
      expiringReminderSeconds: config.expiringReminderSeconds,
      logger,
    });
    const idempotency = new IdempotentOrders(store.idempotency, orders, logger, {
      leaseMs: config.idempotencyLeaseSeconds * 1000,
    });
    resources.add('idempotency key pruning', idempotency.keepPruned(), (stop) => stop());
    // After the store: its migrations made the limits' table. Closed after the HTTP server (added first).
    const limits = resources.add(
      'rate limits',
      openRateLimits({ database: config.database, ...config.rateLimits, logger }),
      (l) => l.close(),
    );
    const app = buildApp({
      orders,
      idempotency,
      jwtKey: config.jwtKey,
      logger,
      limits,
      trustProxy: config.trustProxy,
      publicRoutes: healthRoutes({
        database: databaseCheck(store.db),
        temporal: () => connection.healthService.check({}),
      }),
    });

    const server = await new Promise<Server>((resolve, reject) => {
      const s = createHttpServer(app, config.http, logger);
      s.once('error', reject).listen(config.port, () => resolve(s));
    });
    // Drain on stop: no new connections, in-flight requests finish, then the dependencies close.
    resources.add('HTTP server', server, (s) => new Promise<void>((resolve) => s.close(() => resolve())));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ port, database: store.kind, temporal: config.temporal.description }, 'API listening');
    return { server, port };
  });
}

if (require.main === module) runProcess('orders-api', (config, logger) => startApi(config, logger));
