/**
 * The order workflow on Temporal's time-skipping test server (Java), with its real activities
 * over a real SQLite store: a 15-minute hold passes in about a second.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type OrderActivities } from '../../src/activities';
import { cancelByUser, pay, place } from '../../src/orders/decisions';
import { OrderExpiredBeforeRecordedError } from '../../src/orders/errors';
import { OrderStatus, type NewOrder } from '../../src/orders/order';
import type { Store } from '../../src/store';
import type { orderWorkflow } from '../../src/workflows/order.workflow';
import {
  ORDER_WORKFLOW_TYPE,
  orderCancelledSignal,
  orderStateQuery,
  orderWorkflowId,
  paymentReceivedSignal,
} from '../../src/workflows/shared';
import { sqliteStore } from '../support/database';
import { newId, outboxSubjects, seedOrder } from '../support/orders';
import { startAll } from '../support/start-all';
import { createTimeSkippingEnv } from '../support/time-skipping';

const FIFTEEN_MINUTES = 15 * 60_000;
/** No bus here: every payment of these tests reaches the workflow as a signal. */
const noPaymentsPending = { consumedUntil: async () => true };
const HISTORIES = path.join(__dirname, 'histories');

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let db: Awaited<ReturnType<typeof sqliteStore>>;
let store: Store;
let taskQueue: string;

beforeAll(async () => {
  [env, bundle, db] = await startAll([
    [createTimeSkippingEnv(), (e) => e.teardown()],
    [bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: quietLogger }), () => {}],
    [sqliteStore(), (d) => d.cleanup()],
  ]);
  store = db.store;
});

afterAll(async () => {
  await env?.teardown();
  await db?.cleanup();
});

beforeEach(() => {
  taskQueue = `orders-test-${newId()}`;
});

/** Runs `body` with a fresh worker (a Worker runs once), optionally with other activities. */
async function withWorker<T>(
  body: () => Promise<T>,
  activities: OrderActivities = createActivities({ orders: store.orders, payments: noPaymentsPending }),
): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities,
  });
  return worker.runUntil(body());
}

async function startOrder(
  windowMs = FIFTEEN_MINUTES,
): Promise<{ input: NewOrder; handle: WorkflowHandle<typeof orderWorkflow> }> {
  const input = await seedOrder(store, await env.currentTimeMs(), windowMs);
  const handle = await env.client.workflow.start<typeof orderWorkflow>(ORDER_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: orderWorkflowId(input.orderId),
    args: [input],
  });
  return { input, handle };
}

/** The real activities, with `before` run first on every expireOrder attempt. */
function expiringAfter(before: () => Promise<void>): OrderActivities {
  const real = createActivities({ orders: store.orders, payments: noPaymentsPending });
  return {
    ...real,
    async expireOrder(order: NewOrder) {
      await before();
      return real.expireOrder(order);
    },
  } satisfies OrderActivities;
}

const payment = (orderId: string) => ({ id: newId(), orderId, stripeId: `ch_${newId()}` });

/** Saves the run's history for the replay test when RECORD_HISTORIES=1 (npm run record-histories). */
async function record(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  fs.mkdirSync(HISTORIES, { recursive: true });
  fs.writeFileSync(path.join(HISTORIES, `${name}.json`), historyToJSON(await handle.fetchHistory()));
}

test('when nobody pays, then after the default 15-minute window the order is cancelled with expiration:complete and order:cancelled', async () => {
  const startedAt = await env.currentTimeMs();
  const { input, handle } = await startOrder();

  const result = await withWorker(() => handle.result());

  expect(result).toMatchObject({ status: OrderStatus.Cancelled, ending: 'expired', orderId: input.orderId });
  expect((await env.currentTimeMs()) - startedAt).toBeGreaterThanOrEqual(FIFTEEN_MINUTES);
  expect(await store.orders.find(input.orderId)).toMatchObject({ status: OrderStatus.Cancelled, version: 1 });
  expect(await outboxSubjects(store, input.orderId)).toEqual([
    'order:created',
    'expiration:complete',
    'order:cancelled',
  ]);
  await record('expired', handle);
});

test('when a payment arrives first, then the order completes and never expires', async () => {
  const { input, handle } = await startOrder();
  const paid = payment(input.orderId);

  const result = await withWorker(async () => {
    await env.sleep('1 minute');
    expect(await handle.query(orderStateQuery)).toMatchObject({ status: OrderStatus.Created });
    await handle.signal(paymentReceivedSignal, paid);
    return handle.result();
  });

  expect(result).toMatchObject({ status: OrderStatus.Complete, ending: 'paid', paymentId: paid.id });
  expect(await store.orders.find(input.orderId)).toMatchObject({ status: OrderStatus.Complete, version: 1 });
  expect(await outboxSubjects(store, input.orderId)).toEqual(['order:created']);
  await record('paid', handle);
});

test('when the user cancels, then the workflow ends at once without an expiry', async () => {
  const { input, handle } = await startOrder();

  const result = await withWorker(async () => {
    await env.sleep('2 minutes');
    await store.orders.apply(cancelByUser(input.orderId)); // what DELETE does, then it signals
    await handle.signal(orderCancelledSignal);
    return handle.result();
  });

  expect(result).toMatchObject({ status: OrderStatus.Cancelled, ending: 'cancelled-by-user' });
  expect(await outboxSubjects(store, input.orderId)).toEqual(['order:created', 'order:cancelled']);
  await record('cancelled', handle);
});

test('when a payment lands while the expiry runs, then the order stays cancelled and the payment is refused', async () => {
  const { input, handle } = await startOrder();
  const paid = payment(input.orderId);
  // The timer has fired and the expiry activity is in flight when the payment signal lands.
  const racing = expiringAfter(() => handle.signal(paymentReceivedSignal, paid));

  const result = await withWorker(() => handle.result(), racing);

  expect(result).toMatchObject({ status: OrderStatus.Cancelled, ending: 'expired', rejectedPaymentIds: [paid.id] });
  expect(await store.orders.find(input.orderId)).toMatchObject({ status: OrderStatus.Cancelled, version: 1 });
  expect(await outboxSubjects(store, input.orderId)).toEqual([
    'order:created',
    'expiration:complete',
    'order:cancelled',
    'payment:rejected',
  ]);
  await record('payment-during-expiry', handle);
});

test('when the database completed the order with a payment whose signal lands while the expiry runs, then the order ends paid and that payment is not refused', async () => {
  const { input, handle } = await startOrder();
  const paid = payment(input.orderId);
  // What the payments consumer does: the database decides the payment, then the workflow is told;
  // here the timer fires in between, so the signal lands while the expiry is in flight.
  const racing = expiringAfter(async () => {
    await store.orders.apply(pay(paid));
    await handle.signal(paymentReceivedSignal, paid);
  });

  const result = await withWorker(() => handle.result(), racing);

  expect(result).toMatchObject({
    status: OrderStatus.Complete,
    ending: 'paid',
    paymentId: paid.id,
    rejectedPaymentIds: [],
  });
  expect(await outboxSubjects(store, input.orderId)).toEqual(['order:created']);
});

test('when the user cancelled but the signal never reached the workflow, then its expiry says cancelled by the user, not expired', async () => {
  const { input, handle } = await startOrder();

  const result = await withWorker(async () => {
    await env.sleep('2 minutes');
    await store.orders.apply(cancelByUser(input.orderId)); // DELETE, whose signal failed
    return handle.result();
  });

  expect(result).toMatchObject({ status: OrderStatus.Cancelled, ending: 'cancelled-by-user' });
  expect(await outboxSubjects(store, input.orderId)).toEqual(['order:created', 'order:cancelled']);
});

test('when a payment lands a moment before the deadline, then the order completes and is never cancelled', async () => {
  const { input, handle } = await startOrder();
  const paid = payment(input.orderId);

  const result = await withWorker(async () => {
    await env.sleep(FIFTEEN_MINUTES - 1000);
    await handle.signal(paymentReceivedSignal, paid);
    return handle.result();
  });

  expect(result).toMatchObject({ status: OrderStatus.Complete, ending: 'paid', rejectedPaymentIds: [] });
  expect(await store.orders.find(input.orderId)).toMatchObject({ status: OrderStatus.Complete, version: 1 });
  expect(await outboxSubjects(store, input.orderId)).toEqual(['order:created']);
});

test('when the same payment is signalled twice and a second payment follows, then one completes the order and the other is refused', async () => {
  const { input, handle } = await startOrder();
  const first = payment(input.orderId);
  const second = payment(input.orderId);

  const result = await withWorker(async () => {
    await handle.signal(paymentReceivedSignal, first);
    await handle.signal(paymentReceivedSignal, first);
    await handle.signal(paymentReceivedSignal, second);
    return handle.result();
  });

  expect(result).toMatchObject({ status: OrderStatus.Complete, paymentId: first.id, rejectedPaymentIds: [second.id] });
  expect(await outboxSubjects(store, input.orderId)).toEqual(['order:created', 'payment:rejected']);
  expect(await outboxSubjects(store, second.id)).toEqual(['payment:rejected']);
  await record('duplicate-payments', handle);
});

test('when the workflow first runs after expiresAt (no worker all window), then it expires at once', async () => {
  // A deadline already past at the first workflow task: what a worker outage longer than the window leaves.
  const { input, handle } = await startOrder(-60_000);

  const result = await withWorker(() => handle.result());

  expect(result).toMatchObject({ status: OrderStatus.Cancelled, ending: 'expired' });
  expect(await outboxSubjects(store, input.orderId)).toEqual([
    'order:created',
    'expiration:complete',
    'order:cancelled',
  ]);
});

test('when the database fails during expiry, then the activity is retried and the order still ends cancelled', async () => {
  const { input, handle } = await startOrder(60_000);
  let failures = 0;
  const flaky = expiringAfter(async () => {
    if (failures++ < 2) throw new Error('database is down');
  });

  const result = await withWorker(() => handle.result(), flaky);

  expect(failures).toBe(3);
  expect(result).toMatchObject({ status: OrderStatus.Cancelled, ending: 'expired' });
  expect(await store.orders.find(input.orderId)).toMatchObject({ status: OrderStatus.Cancelled });
});

test('when the API never recorded the order, then expiry leaves a tombstone and no events', async () => {
  const now = await env.currentTimeMs();
  const ticket = { id: newId(), title: 'play', price: 5, version: 0 };
  await store.tickets.upsert(ticket);
  const input: NewOrder = {
    orderId: newId(),
    userId: newId(),
    ticket,
    expiresAt: new Date(now + 60_000).toISOString(),
  };
  const handle = await env.client.workflow.start<typeof orderWorkflow>(ORDER_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: orderWorkflowId(input.orderId),
    args: [input],
  });

  await withWorker(() => handle.result());

  expect(await store.orders.find(input.orderId)).toBeUndefined();
  expect(await outboxSubjects(store, input.orderId)).toEqual([]);
  await expect(store.orders.record(place(input, new Date(now).toISOString(), 0))).rejects.toThrow(
    OrderExpiredBeforeRecordedError,
  );
});

const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (message: string) => console.error(message),
};
