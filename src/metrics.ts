import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StoreHooks } from './store';
import type { OutboxStore } from './store/outbox';

/**
 * Prometheus metrics of this process, served at `/metrics` (API port, worker health port).
 * One registry per process; the process's default metrics (CPU, memory, event loop) included.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const httpRequestSeconds = new Histogram({
  name: 'orders_http_request_duration_seconds',
  help: 'API request duration, by method, route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const workflowStartSeconds = new Histogram({
  name: 'orders_workflow_start_duration_seconds',
  help: "Time for Temporal to accept an order's workflow start (most of POST /api/orders)",
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const ordersCreated = new Counter({
  name: 'orders_created_total',
  help: 'Orders recorded (POST /api/orders)',
  registers: [registry],
});

export const eventsPublished = new Counter({
  name: 'orders_events_published_total',
  help: 'Events the outbox relay published to JetStream, by subject',
  labelNames: ['subject'] as const,
  registers: [registry],
});

export const outboxPublishFailures = new Counter({
  name: 'orders_outbox_publish_failures_total',
  help: 'Outbox relay rounds that could not publish (the events stay queued and are retried)',
  registers: [registry],
});

export const outboxSetAside = new Counter({
  name: 'orders_outbox_set_aside_total',
  help: 'Outbox rows that NATS refused for good, set aside and never retried (docs/events.md, "Events set aside"), by subject',
  labelNames: ['subject'] as const,
  registers: [registry],
});

export const paymentsSetAside = new Counter({
  name: 'orders_payments_set_aside_total',
  help: 'payment:created messages whose decision kept failing, set aside (table payments_set_aside) so that expiries flow',
  registers: [registry],
});

export const outboxPruned = new Counter({
  name: 'orders_outbox_pruned_total',
  help: 'Published outbox rows deleted after OUTBOX_RETENTION_HOURS',
  registers: [registry],
});

export const eventsRejected = new Counter({
  name: 'orders_events_rejected_total',
  help: 'Incoming events terminated without being handled (not JSON, invalid, no handler), by subject and reason',
  labelNames: ['subject', 'reason'] as const,
  registers: [registry],
});

export const ordersEnded = new Counter({
  name: 'orders_ended_total',
  help: 'Orders that reached their end, by how: paid, expired or cancelled-by-user',
  labelNames: ['ending'] as const,
  registers: [registry],
});

/** The store's hooks that count orders placed and ended, once each, when their transaction commits. */
export const orderMetrics: StoreHooks = {
  orderPlaced: () => ordersCreated.inc(),
  orderEnded: (ending) => ordersEnded.inc({ ending }),
};

export const consumerRestarts = new Counter({
  name: 'orders_consumer_restarts_total',
  help: 'Times a JetStream consumer stopped consuming unasked (deleted, refused, disconnected) and was started again, by consumer',
  labelNames: ['consumer'] as const,
  registers: [registry],
});

export const expiryLateness = new Histogram({
  name: 'orders_expiry_lateness_seconds',
  help: 'How long after its deadline an order was expired (timer, task queue, payments wait and retries)',
  buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
  registers: [registry],
});

type OutboxBacklog = Pick<OutboxStore, 'backlog'>;
const watched = new Set<OutboxBacklog>();

/** Read on each scrape: the outbox is shared, so any process watching it reads the same rows. */
async function outboxBacklog(): Promise<{ waiting: number; oldestAgeSeconds: number } | undefined> {
  const [outbox] = watched;
  if (!outbox) return undefined;
  const { waiting, oldestCreatedAt } = await outbox.backlog();
  const oldestAgeSeconds = oldestCreatedAt ? Math.max(0, (Date.now() - Date.parse(oldestCreatedAt)) / 1000) : 0;
  return { waiting, oldestAgeSeconds };
}

export const outboxWaiting = new Gauge({
  name: 'orders_outbox_waiting_events',
  help: 'Outbox rows waiting to be published (neither published nor set aside), read at scrape',
  registers: [registry],
  async collect() {
    const backlog = await outboxBacklog().catch(() => undefined);
    if (backlog) this.set(backlog.waiting);
  },
});

export const outboxOldestAge = new Gauge({
  name: 'orders_outbox_oldest_waiting_age_seconds',
  help: 'Age of the oldest outbox row waiting to be published (0: none waiting), read at scrape',
  registers: [registry],
  async collect() {
    const backlog = await outboxBacklog().catch(() => undefined);
    if (backlog) this.set(backlog.oldestAgeSeconds);
  },
});

/** The worker's outbox, read at each scrape for the two backlog gauges; returns the function that stops it. */
export function watchOutbox(outbox: OutboxBacklog): () => void {
  watched.add(outbox);
  return () => watched.delete(outbox);
}
