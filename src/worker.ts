/**
 * The worker process: runs order workflows and their activities, consumes the events of the
 * other services (tickets, payments) and relays the outbox to NATS.
 * Start: `npm run start:worker` (dev: `workflowsPath`; with WORKFLOW_BUNDLE set, a prebuilt bundle).
 */
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import type { Config } from './config';
import { connectEventBus, publishEvent } from './events/jetstream';
import { startListeners } from './events/listeners';
import { OutboxRelay } from './events/outbox-relay';
import type { Logger } from './logger';
import { migrateToLatest, openDatabase } from './store/database';
import { OrderStore } from './store/order-store';
import { connectTemporal } from './temporal/connection';
import { once, runProcess } from './process';
import { databaseCheck, listenHealth } from './health';
import { countOrderEnding } from './metrics';

export interface RunningWorker {
  store: OrderStore;
  /** Resolves when the worker has stopped polling and finished in-flight activities; idempotent. */
  stop(): Promise<void>;
}

/** Wires the worker process; tests call it in-process with their own config. */
export async function startWorker(
  config: Config,
  logger: Logger,
  workflowSource = workflowSourceFromEnv(),
): Promise<RunningWorker> {
  installSdkLogger(logger);
  const { db, kind } = openDatabase(config.database, logger);
  const applied = await migrateToLatest(db, kind);
  if (applied.length > 0) logger.info({ applied }, 'database migrated');

  // Activities write events to the outbox; the relay of this process publishes them at once.
  const store = new OrderStore(db, kind, { eventsWritten: () => relay.kick(), orderEnded: countOrderEnding });
  const bus = await connectEventBus(config.nats.url, config.nats.stream, 'orders-worker', logger);
  const relay = new OutboxRelay(
    store,
    (event) => publishEvent(bus, event),
    logger.child({ component: 'outbox' }),
    config.outboxPollMs,
  );

  const connection = await connectTemporal(config.temporal);
  const client = new Client({ connection, namespace: config.temporal.namespace });

  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities({ store }),
    // Orders sleep for minutes between two short tasks: a small cache keeps the worker's memory flat.
    maxCachedWorkflows: config.temporal.maxCachedWorkflows,
    ...workflowSource,
  });
  const running = worker.run();
  relay.start();
  const listeners = await startListeners(bus, store, client, logger.child({ component: 'events' }));
  const health = await listenHealth(config.workerHealthPort, {
    database: databaseCheck(db),
    nats: () => bus.nc.flush(),
    temporal: () => connection.healthService.check({}),
  });
  logger.info(
    {
      healthPort: health?.port,
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      database: kind,
      nats: config.nats.url,
    },
    'worker running',
  );

  return { store, stop: once(stop) };

  async function stop(): Promise<void> {
    await Promise.all(listeners.map((l) => l.stop()));
    health?.server.close();
    if (worker.getState() === 'RUNNING') worker.shutdown(); // stops polling; in-flight activities finish first
    await running;
    await relay.stop(); // publishes what the last activities wrote
    await bus.close();
    await connection.close();
    await store.close();
    logger.info('worker stopped');
  }
}

/**
 * The SDK logs through this process's logger; its routine chatter (bundling, state changes) only at
 * debug. `shutdownSignals: []`: this process's own handler (process.ts) stops the worker, in order.
 * A runtime installed earlier in the process (a test's) is kept.
 */
function installSdkLogger(logger: Logger): void {
  const sdk = logger.child({ component: 'temporal-sdk' });
  const level: LogLevel = logger.isLevelEnabled('debug') ? 'DEBUG' : 'WARN';
  try {
    Runtime.install({
      shutdownSignals: [],
      // The native core's own logs (connection trouble, task failures) come through this logger too,
      // as JSON lines like the rest, instead of raw text on stderr.
      telemetryOptions: { logging: { filter: { core: level, other: 'ERROR' }, forward: {} } },
      logger: new DefaultLogger(level, ({ level, message, meta }) => {
        const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level];
        sdk[method](meta ?? {}, message);
      }),
    });
  } catch (err) {
    if ((err as Error).name !== 'IllegalStateError') throw err;
  }
}

function workflowSourceFromEnv(): Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'> {
  const bundle = process.env.WORKFLOW_BUNDLE;
  return bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: require.resolve('./workflows') };
}

if (require.main === module) runProcess('orders-worker', startWorker);
