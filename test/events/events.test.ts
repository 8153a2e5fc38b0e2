/**
 * Events on a real nats-server with JetStream: the other services publish with core NATS,
 * this service consumes durably (explicit acks, redelivery) and publishes through its outbox.
 */
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { runConsumer, type RunningConsumer } from '../../src/events/consumer';
import { connectEventBus, publishEvent, type EventBus } from '../../src/events/jetstream';
import { paymentHandlers } from '../../src/events/payments-consumer';
import { ticketHandlers } from '../../src/events/tickets-consumer';
import { startOutboxRelay, type OutboxRelay } from '../../src/events/outbox-relay';
import { cancelByUser } from '../../src/orders/decisions';
import { temporalOrderWorkflows } from '../../src/temporal/order-workflows';
import type { Store } from '../../src/store';
import { sqliteStore, type TestDatabase } from '../support/database';
import { eventually } from '../../scripts/lib/eventually';
import { counterValue } from '../support/metrics';
import { CoreNatsPeer, startTestNats, type Recorder, type TestNats } from '../support/nats';
import { newId, seedOrder } from '../support/orders';

/** Warnings and errors, kept to see what the service logs about a message it refused. */
const logged: Array<{ msg: string; payload?: string }> = [];
const logger = pino({ level: 'warn' }, { write: (line: string) => logged.push(JSON.parse(line)) });
let nats: TestNats;
let db: TestDatabase;
let store: Store;
let bus: EventBus;
let relay: OutboxRelay;
let peer: CoreNatsPeer;
let recorder: Recorder;
const consumers: RunningConsumer[] = [];
const handled: string[] = [];
const signals: Array<{ workflowId: string; args: unknown[] }> = [];
const endedWorkflows = new Set<string>();

/** Temporal's client, faked under the real adapter: the end-to-end tests signal a real workflow. */
const temporal = {
  workflow: {
    getHandle: (workflowId: string) => ({
      signal: async (_def: unknown, ...args: unknown[]) => {
        if (endedWorkflows.has(workflowId))
          throw new WorkflowNotFoundError('workflow completed', workflowId, undefined);
        signals.push({ workflowId, args });
      },
    }),
  },
  withDeadline: (_deadline: number, call: () => Promise<unknown>) => call(),
} as unknown as Pick<Client, 'workflow' | 'withDeadline'>;

beforeAll(async () => {
  nats = await startTestNats();
  db = await sqliteStore({ eventsWritten: () => relay?.kick() });
  store = db.store;
  bus = await connectEventBus(nats.url, 'ticketing', 'orders-test', logger);
  relay = startOutboxRelay(bus, store.outbox, logger, { pollMs: 50 });
  const tickets = ticketHandlers(store.tickets);
  // Count every delivery of ticket:updated, to see an early one come again.
  const counted = {
    ...tickets,
    'ticket:updated': {
      ...tickets['ticket:updated'],
      handle: (
        data: Parameters<(typeof tickets)['ticket:updated']['handle']>[0],
        msg: Parameters<(typeof tickets)['ticket:updated']['handle']>[1],
      ) => {
        handled.push(`${data.id}@${data.version}`);
        return tickets['ticket:updated'].handle(data, msg);
      },
    },
  };
  consumers.push(await runConsumer(bus, 'orders-tickets', counted, logger));
  consumers.push(
    await runConsumer(
      bus,
      'orders-payments',
      paymentHandlers({
        orders: store.orders,
        workflows: temporalOrderWorkflows(temporal, 'orders-test'),
        setAside: store.paymentsSetAside,
        logger,
      }),
      logger,
    ),
  );
  peer = await CoreNatsPeer.connect(nats.url);
  recorder = peer.record(['order:created', 'order:cancelled', 'expiration:complete', 'payment:rejected']);
});

afterAll(async () => {
  recorder?.stop();
  await Promise.all(consumers.map((c) => c.stop()));
  await relay?.stop();
  await peer?.close();
  await bus?.close();
  await db?.cleanup();
  await nats?.stop();
});

test('when another service publishes ticket:created with core NATS, then the service keeps a copy', async () => {
  const id = newId();
  await peer.publish('ticket:created', { id, version: 0, title: 'concert', price: 20, userId: newId() });
  expect(await eventually(() => store.tickets.find(id), 'the ticket copy')).toEqual({
    id,
    title: 'concert',
    price: 20,
    version: 0,
  });
});

test('when ticket:updated version 2 arrives before version 1, then it is redelivered and applied after version 1', async () => {
  const id = newId();
  const userId = newId();
  await peer.publish('ticket:created', { id, version: 0, title: 'v0', price: 10, userId });
  await eventually(() => store.tickets.find(id), 'the ticket copy');
  await peer.publish('ticket:updated', { id, version: 2, title: 'v2', price: 30, userId });
  await eventually(async () => (handled.includes(`${id}@2`) ? true : undefined), 'the early update to be seen');
  expect(await store.tickets.find(id)).toMatchObject({ version: 0 }); // not applied early
  await peer.publish('ticket:updated', { id, version: 1, title: 'v1', price: 20, userId, orderId: newId() });

  const final = await eventually(async () => {
    const t = await store.tickets.find(id);
    return t?.version === 2 ? t : undefined;
  }, 'version 2 to be applied');
  expect(final).toEqual({ id, title: 'v2', price: 30, version: 2 });
  expect(handled.filter((h) => h === `${id}@2`).length).toBeGreaterThanOrEqual(2);
});

test('when an event is malformed, then it is set aside and the events after it are still handled', async () => {
  await peer.publish('ticket:created', { id: 42, title: null });
  const id = newId();
  await peer.publish('ticket:created', { id, version: 0, title: 'after', price: 1, userId: newId() });
  await eventually(() => store.tickets.find(id), 'the event after the malformed one');
});

test('when an order is created, then order:created reaches a plain core NATS subscriber with the contract payload', async () => {
  const order = await seedOrder(store, Date.now());
  const event = await recorder.waitFor('order:created', (d) => d.id === order.orderId);
  expect(event).toEqual({
    id: order.orderId,
    version: 0,
    status: 'created',
    userId: order.userId,
    expiresAt: order.expiresAt,
    ticket: { id: order.ticket.id, price: order.ticket.price },
  });
});

test('when the same event is published twice, then JetStream keeps one (Nats-Msg-Id)', async () => {
  const event = { subject: 'expiration:complete' as const, msgId: `test:${newId()}`, data: { orderId: newId() } };
  expect(await publishEvent(bus, event)).toEqual({ duplicate: false });
  expect(await publishEvent(bus, event)).toEqual({ duplicate: true });
});

test('when NATS is down, then events wait in the outbox and are published once it is back', async () => {
  await nats.pause();
  const order = await seedOrder(store, Date.now());
  await store.orders.apply(cancelByUser(order.orderId));
  await eventually(
    async () =>
      (await store.outbox.pending(100)).some((e) => e.msgId === `order:cancelled:${order.orderId}`) ? true : undefined,
    'the event to be queued',
  );
  await nats.resume();
  await recorder.waitFor('order:cancelled', (d) => d.id === order.orderId, 60_000);
  expect(recorder.count('order:cancelled', (d) => d.id === order.orderId)).toBe(1);
});

test('when payment:created arrives for an active order, then it becomes a signal to its workflow', async () => {
  const order = await seedOrder(store, Date.now());
  const payment = { id: newId(), orderId: order.orderId, stripeId: 'ch_1' };
  await peer.publish('payment:created', payment);
  const signal = await eventually(
    async () => signals.find((s) => s.workflowId === `order-${order.orderId}`),
    'the signal',
  );
  expect(signal.args).toEqual([payment]);
});

test('when payment:created arrives for a cancelled order, then payment:rejected is published for a refund', async () => {
  const order = await seedOrder(store, Date.now());
  await store.orders.apply(cancelByUser(order.orderId));
  endedWorkflows.add(`order-${order.orderId}`);
  const payment = { id: newId(), orderId: order.orderId, stripeId: 'ch_late' };
  await peer.publish('payment:created', payment);
  const rejected = await recorder.waitFor('payment:rejected', (d) => d.id === payment.id);
  expect(rejected).toEqual({ ...payment, reason: `order ${order.orderId} is already cancelled` });
});

test('when payment:created carries a hostile id (CR/LF, 600 kB) or is not JSON, then it is set aside, logged and counted, and every other event still flows', async () => {
  const loggedBefore = logged.length;
  const rejectedBefore = {
    invalid: await counterValue('orders_events_rejected_total', { subject: 'payment:created', reason: 'invalid' }),
    notJson: await counterValue('orders_events_rejected_total', { subject: 'payment:created', reason: 'not-json' }),
  };
  // As the other services would publish them: core NATS, each to an order this service does not know.
  await peer.publish('payment:created', { id: `pay\r\nNats-Expected-Stream: other`, orderId: newId(), stripeId: 'ch' });
  await peer.publish('payment:created', { id: 'p'.repeat(600_000), orderId: newId(), stripeId: 'ch' });
  peer.nc.publish('payment:created', '{"id": "not json');
  await peer.nc.flush();

  const order = await seedOrder(store, Date.now());
  await store.orders.apply(cancelByUser(order.orderId));
  endedWorkflows.add(`order-${order.orderId}`);
  const payment = { id: newId(), orderId: order.orderId, stripeId: 'ch_after_poison' };
  await peer.publish('payment:created', payment);

  await recorder.waitFor('order:created', (d) => d.id === order.orderId);
  await recorder.waitFor('order:cancelled', (d) => d.id === order.orderId);
  await recorder.waitFor('payment:rejected', (d) => d.id === payment.id);
  expect(await counterValue('orders_events_rejected_total', { subject: 'payment:created', reason: 'invalid' })).toBe(
    rejectedBefore.invalid + 2,
  );
  expect(await counterValue('orders_events_rejected_total', { subject: 'payment:created', reason: 'not-json' })).toBe(
    rejectedBefore.notJson + 1,
  );
  const refusals = logged.slice(loggedBefore).filter((l) => l.msg === 'malformed event terminated');
  expect(refusals).toHaveLength(3);
  // Logged, but not 600 kB of it.
  expect(Math.max(...refusals.map((l) => l.payload!.length))).toBeLessThan(4096);
  // Nothing waits in the outbox (the relay marks the last row just after the subscriber saw it), nothing was set aside.
  await eventually(async () => ((await store.outbox.pending(10)).length === 0 ? true : undefined), 'an empty outbox');
  expect(await store.db.selectFrom('outbox').select('msg_id').where('failed_at', 'is not', null).execute()).toEqual([]);
});
