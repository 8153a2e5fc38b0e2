/**
 * The worker process: runs order workflows and their activities, consumes the events of the
 * other services (tickets, payments) and relays the outbox to NATS.
 * Start: `npm run start:worker` (development: bundles src/workflows; WORKFLOW_BUNDLE: a prebuilt bundle).
 */
import fs from 'node:fs';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { ConfigError, type Config } from './config';
import { runConsumer } from './events/consumer';
import { connectEventBus } from './events/jetstream';
import { startOutboxRelay } from './events/outbox-relay';
import { PAYMENTS_CONSUMER, paymentHandlers } from './events/payments-consumer';
import { paymentsProgress } from './events/payments-progress';
import { ticketHandlers } from './events/tickets-consumer';
import { databaseCheck, listenHealth, type Check } from './health';
import type { Logger } from './logger';
import { orderMetrics, watchOutbox } from './metrics';
import { runProcess, startUp, type Running } from './process';
import { openStore, type Store } from './store';
import { connectTemporal } from './temporal/connection';
import { temporalOrderWorkflows } from './temporal/order-workflows';
import { installSdkRuntime } from './temporal/runtime';
import { withActivationTimeout } from './temporal/activation-timeout';
import { runTemporalWorker } from './temporal/worker-run';
import { startTracing, untracedBundlePath } from './tracing';

export interface RunningWorker extends Running {
  store: Store;
  /** Stops polling, lets in-flight activities finish and publishes their events, then closes; idempotent. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /** Traces to this exporter whatever the config says (tests: an in-memory one). */
  spanExporter?: SpanExporter;
}

/** Wires the worker process; tests call it in-process with their own config. */
export function startWorker(config: Config, logger: Logger, options: WorkerOptions = {}): Promise<RunningWorker> {
  return startUp(logger, async (resources) => {
    // Closed last: the spans of the last activities and publishes are flushed.
    const tracing = await startTracing(config.tracing, {
      serviceName: 'orders-worker',
      ...(options.spanExporter ? { exporter: options.spanExporter } : {}),
    });
    if (tracing) resources.add('tracing', tracing, (t) => t.shutdown());
    // A prebuilt bundle comes in two: with the tracing interceptors, and without them for a worker
    // that exports no spans (scripts/bundle-workflows.ts). Bundled here, the plugin adds them if needed.
    const workflowBundle =
      config.workflowBundle && (tracing ? config.workflowBundle : untracedBundlePath(config.workflowBundle));
    if (workflowBundle && !fs.existsSync(workflowBundle))
      throw new ConfigError(`WORKFLOW_BUNDLE: ${workflowBundle} does not exist (npm run build writes both bundles)`);
    resources.add(
      'Temporal SDK logs',
      installSdkRuntime(logger, { metricsPort: config.temporal.metricsPort }),
      (logs) => logs.flush(),
    );
    // Activities write events to the outbox; the relay of this process publishes them at once (or
    // the relay of another worker, if its claim on the oldest rows runs: docs/events.md, "Claiming").
    const hooks = { ...orderMetrics, eventsWritten: () => relay.kick() };
    const store = resources.add('database', await openStore(config.database, logger, hooks), (s) => s.close());
    resources.add('outbox metrics', watchOutbox(store.outbox), (unwatch) => unwatch());
    const bus = resources.add(
      'NATS',
      await connectEventBus(config.nats.url, config.nats.stream, 'orders-worker', logger, config.nats.streamReplicas),
      (b) => b.close(),
    );
    const relay = resources.add(
      'outbox relay',
      startOutboxRelay(bus, store.outbox, logger.child({ component: 'outbox' }), {
        pollMs: config.outboxPollMs,
        retentionMs: config.outboxRetentionHours * 3600_000,
        claimMs: config.outboxClaimSeconds * 1000,
      }),
      (r) => r.stop(), // publishes what the last activities wrote
    );

    const connection = resources.add('Temporal', await connectTemporal(config.temporal), (c) => c.close());
    const workflows = temporalOrderWorkflows(
      new Client({
        connection,
        namespace: config.temporal.namespace,
        ...(tracing ? { plugins: [tracing.plugin] } : {}),
      }),
      config.temporal.taskQueue,
      { callTimeoutMs: config.temporal.callTimeoutMs },
    );
    const worker = await Worker.create(
      withActivationTimeout(
        {
          // Tracing: activities and workflows continue the trace their caller sent; the plugin adds the
          // workflow interceptors to a bundle made here, and the sink their spans leave the sandbox by.
          ...(tracing ? { plugins: [tracing.plugin] } : {}),
          connection,
          namespace: config.temporal.namespace,
          taskQueue: config.temporal.taskQueue,
          activities: createActivities({ orders: store.orders, payments: paymentsProgress(bus, PAYMENTS_CONSUMER) }),
          // Orders sleep for minutes between two short tasks: a small cache keeps the worker's memory flat.
          maxCachedWorkflows: config.temporal.maxCachedWorkflows,
          ...(workflowBundle
            ? { workflowBundle: { codePath: workflowBundle } }
            : { workflowsPath: require.resolve('./workflows') }),
        },
        config.temporal.activationTimeoutMs,
      ),
    );
    const temporalWorker = resources.add(
      'Temporal worker',
      runTemporalWorker(worker, (err) => resources.fail('Temporal worker', err)),
      (w) => w.stop(),
    );

    const events = logger.child({ component: 'events' });
    const consumers: Record<string, Check> = {};
    for (const [durable, handlers] of [
      ['orders-tickets', ticketHandlers(store.tickets)],
      [
        PAYMENTS_CONSUMER,
        paymentHandlers({ orders: store.orders, workflows, setAside: store.paymentsSetAside, logger: events }),
      ],
    ] as const) {
      const consumer = resources.add(
        durable,
        await runConsumer(bus, durable, handlers, events, store.consumerPositions),
        (c) => c.stop(),
      );
      consumers[`consumer ${durable}`] = () => consumer.check();
    }

    const health = await listenHealth(config.workerHealthPort, {
      database: databaseCheck(store.db),
      nats: () => bus.nc.flush(),
      temporal: () => connection.healthService.check({}),
      'temporal worker': () => temporalWorker.check(),
      ...consumers,
    });
    if (health) resources.add('health server', health.server, (s) => s.close());
    logger.info(
      {
        healthPort: health?.port,
        ...(config.temporal.metricsPort ? { temporalMetricsPort: config.temporal.metricsPort } : {}),
        taskQueue: config.temporal.taskQueue,
        namespace: config.temporal.namespace,
        temporal: config.temporal.description,
        database: store.kind,
        nats: config.nats.url,
        workflowBundle: workflowBundle ?? 'bundled from src/workflows at start',
      },
      'worker running',
    );
    return { store };
  });
}

if (require.main === module) runProcess('orders-worker', (config, logger) => startWorker(config, logger));
