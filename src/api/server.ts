/**
 * The API process: the REST routes of the contract, over the database and Temporal.
 * Start: `npm run start:api`.
 */
import type { Server } from 'node:http';
import { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { OrderService } from '../orders/order-service';
import { once, runProcess } from '../process';
import { migrateToLatest, openDatabase } from '../store/database';
import { OrderStore } from '../store/order-store';
import { connectTemporal } from '../temporal/connection';
import { buildApp } from './app';
import { databaseCheck, healthRoutes } from '../health';
import { countOrderEnding } from '../metrics';
import { temporalOrderWorkflows } from '../temporal/order-workflows';

export interface RunningApi {
  server: Server;
  port: number;
  /** Stops accepting, lets in-flight requests finish, then closes; idempotent. */
  stop(): Promise<void>;
}

export async function startApi(config: Config, logger: Logger): Promise<RunningApi> {
  const { db, kind } = openDatabase(config.database, logger);
  await migrateToLatest(db, kind);
  const store = new OrderStore(db, kind, { orderEnded: countOrderEnding });
  // One Temporal connection per process, never one per request. The native (Rust core) connection
  // costs far less CPU per call than the pure-JS gRPC one, and the start is the API's hot path.
  const connection = await connectTemporal(config.temporal);
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const orders = new OrderService({
    store,
    workflows: temporalOrderWorkflows(client, config.temporal.taskQueue),
    expirationSeconds: config.orderExpirationSeconds,
    logger,
  });
  const app = buildApp({
    orders,
    jwtKey: config.jwtKey,
    logger,
    publicRoutes: healthRoutes({
      database: databaseCheck(db),
      temporal: () => connection.healthService.check({}),
    }),
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, () => resolve(s)).on('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ port, database: kind, temporal: config.temporal.address }, 'API listening');

  const stop = async () => {
    // Drain: stop accepting, let in-flight requests finish, then close the dependencies.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await connection.close();
    await store.close();
    logger.info('API stopped');
  };
  return { server, port, stop: once(stop) };
}

if (require.main === module) runProcess('orders-api', startApi);
