/**
 * The order workflow on Temporal's time-skipping test server (Java), with its real activities
 * over a real SQLite store: a 15-minute hold passes in about a second.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type OrderActivities } from '../../src/activities';
import { cancelByUser, pay, place } from '../../src/orders/decisions';
import { HoldExtensionLimitError, OrderExpiredBeforeRecordedError, OrderNotActiveError } from '../../src/orders/errors';
import { OrderStatus, type HoldPolicy, type NewOrder } from '../../src/orders/order';
import { withActivationTimeout } from '../../src/temporal/activation-timeout';
import { temporalOrderWorkflows } from '../../src/temporal/order-workflows';
import type { Store } from '../../src/store';
import type { orderWorkflow } from '../../src/workflows/order.workflow';
import {
  discardSignal,
  extendHoldUpdate,
  ORDER_WORKFLOW_TYPE,
  orderCancelledSignal,
  orderStateQuery,
  orderWorkflowId,
  paymentReceivedSignal,
} from '../../src/workflows/shared';
import { sqliteStore } from '../support/database';
import { newId, outboxSubjects, seedOrder } from '../support/orders';
import { startAll } from '../support/start-all';
import { eventMs, patchMarkersIn, stepOf, stepsIn } from '../support/workflow-history';
import { createTimeSkippingEnv } from '../support/time-skipping';
import { eventually } from '../../scripts/lib/eventually';

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

/** Runs `body` with a fresh worker (a Worker runs once), optionally with other activities or worker options. */
async function withWorker<T>(
  body: () => Promise<T>,
  activities: OrderActivities = createActivities({ orders: store.orders, payments: noPaymentsPending }),
  options: Partial<WorkerOptions> = {},
): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities,
    ...options,
  });
  return worker.runUntil(body());
}

/** Without `expiringReminderSeconds` (as an API from before reminders placed it), the default 120 s applies. */
async function startOrder(
  windowMs = FIFTEEN_MINUTES,
  holdPolicy?: HoldPolicy,
  more: Pick<NewOrder, 'expiringReminderSeconds'> = {},
): Promise<{ input: NewOrder; handle: WorkflowHandle<typeof orderWorkflow> }> {
  const seeded = await seedOrder(store, await env.currentTimeMs(), windowMs);
  const input = { ...(holdPolicy ? { ...seeded, holdPolicy } : seeded), ...more };
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

/** The real activities, with `before` run first on every extendHold attempt. */
function extendingAfter(before: () => Promise<void>): OrderActivities {
  const real = createActivities({ orders: store.orders, payments: noPaymentsPending });
  return {
    ...real,
    async extendHold(...args: Parameters<OrderActivities['extendHold']>) {
      await before();
      return real.extendHold(...args);
    },
  } satisfies OrderActivities;
}

const payment = (orderId: string) => ({ id: newId(), orderId, stripeId: `ch_${newId()}` });

/**
 * Saves the run's history for the replay test when RECORD_HISTORIES=1 (npm run record-histories),
 * unless it is there already: a recorded history stands for the workflows that the code of its day
 * started, and must keep replaying while any of them may still run (docs/changing-the-workflow.md). Delete a file to record it again.
 */
async function record(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const file = path.join(HISTORIES, `${name}.json`);
  if (fs.existsSync(file)) return;
  fs.mkdirSync(HISTORIES, { recursive: true });
  fs.writeFileSync(file, historyToJSON(await handle.fetchHistory()));
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
    'order:expiring',
    'expiration:complete',
    'order:cancelled',
  ]);
  await record('local-steps-expired', handle);
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
  await record('local-steps-paid', handle);
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
  await record('local-steps-cancelled', handle);
});

test("when the worker is given an activation deadline, then its workflow VM runs each activation under it, not under the SDK's 5 s", async () => {
  const { handle } = await startOrder();
  const worker = await Worker.create(
    withActivationTimeout(
      {
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: bundle,
        activities: createActivities({ orders: store.orders, payments: noPaymentsPending }),
      },
      60_000,
    ),
  );

  // the SDK does not type this option: an upgrade that stops reading it fails here, not in production
  expect(worker.options.isolateExecutionTimeoutMs).toBe(60_000);
  await expect(worker.runUntil(handle.result())).resolves.toMatchObject({ status: OrderStatus.Cancelled });
});

describe('when the API asks to discard the workflow of an order it could not record', () => {
  test('when no order with its id exists, then a tombstone takes the id and the workflow ends not-recorded, at once', async () => {
    const ticket = { id: newId(), title: 'never recorded', price: 5, version: 0 };
    await store.tickets.upsert(ticket);
    const unrecorded: NewOrder = {
      orderId: newId(),
      userId: newId(),
      ticket: { id: ticket.id, title: ticket.title, price: ticket.price },
      expiresAt: new Date((await env.currentTimeMs()) + FIFTEEN_MINUTES).toISOString(),
    };
    const handle = await env.client.workflow.start<typeof orderWorkflow>(ORDER_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: orderWorkflowId(unrecorded.orderId),
      args: [unrecorded],
    });

    const result = await withWorker(async () => {
      await handle.signal(discardSignal, 'Ticket is already reserved');
      return handle.result();
    });

    expect(result).toMatchObject({
      status: OrderStatus.Cancelled,
      ending: 'not-recorded',
      discardReason: 'Ticket is already reserved',
    });
    const { events } = await handle.fetchHistory();
    expect(events?.filter((e) => e.timerFiredEventAttributes)).toEqual([]); // it did not wait for the deadline
    const row = await store.db.selectFrom('orders').selectAll().where('id', '=', unrecorded.orderId).executeTakeFirst();
    expect(row).toMatchObject({ tombstone: 1, status: OrderStatus.Cancelled, ending: 'not-recorded' });
    await expect(store.orders.record(place(unrecorded, new Date().toISOString(), 0))).rejects.toBeInstanceOf(
      OrderExpiredBeforeRecordedError,
    ); // a stalled attempt that wakes up can no longer record it
    expect(await outboxSubjects(store, unrecorded.orderId)).toEqual([]);
    await record('local-steps-discarded', handle);
  });

  test('when the order is recorded, then the discard changes nothing and the order lives on to its deadline', async () => {
    const { input, handle } = await startOrder();

    const result = await withWorker(async () => {
      await handle.signal(discardSignal, 'a stale attempt');
      await env.sleep('1 minute');
      expect(await handle.query(orderStateQuery)).toMatchObject({ status: OrderStatus.Created });
      return handle.result();
    });

    expect(result).toMatchObject({ status: OrderStatus.Cancelled, ending: 'expired' });
    expect(result.discardReason).toBeUndefined();
    expect(await outboxSubjects(store, input.orderId)).toEqual([
      'order:created',
      'order:expiring',
      'expiration:complete',
      'order:cancelled',
    ]);
  });
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
    'order:expiring',
    'expiration:complete',
    'order:cancelled',
    'payment:rejected',
  ]);
  await record('local-steps-payment-during-expiry', handle);
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
  expect(await outboxSubjects(store, input.orderId)).toEqual(['order:created', 'order:expiring']);
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
    // A few seconds before the deadline: the test server's clock also runs in real time while activities run.
    await env.sleep(Date.parse(input.expiresAt) - (await env.currentTimeMs()) - 5000);
    await handle.signal(paymentReceivedSignal, paid);
    return handle.result();
  });

  expect(result).toMatchObject({ status: OrderStatus.Complete, ending: 'paid', rejectedPaymentIds: [] });
  expect(await store.orders.find(input.orderId)).toMatchObject({ status: OrderStatus.Complete, version: 1 });
  expect(await outboxSubjects(store, input.orderId)).toEqual(['order:created', 'order:expiring']);
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
  await record('local-steps-duplicate-payments', handle);
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

describe('extending the hold (update extendHold)', () => {
  const ONE_EXTENSION: HoldPolicy = { maxExtensions: 1, extensionSeconds: 300 };
  const FIVE_MINUTES = 300_000;
  const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();
  /** The failure type an update was refused with (validator or activity). */
  async function refusalOf(update: Promise<unknown>): Promise<string | undefined> {
    const err = await update.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    let cause = (err as Error).cause;
    while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as Error).cause;
    return (cause as ApplicationFailure | undefined)?.type ?? undefined;
  }

  test('when the holder extends once, then the order expires at the new deadline, not the old one, with order:updated before the expiry', async () => {
    const startedAt = await env.currentTimeMs();
    const { input, handle } = await startOrder(FIFTEEN_MINUTES, ONE_EXTENSION);
    const newDeadline = plus(input.expiresAt, FIVE_MINUTES);

    const result = await withWorker(async () => {
      await env.sleep('1 minute');
      const extended = await handle.executeUpdate(extendHoldUpdate);
      expect(extended).toMatchObject({ status: OrderStatus.Created, expiresAt: newDeadline, extensions: 1 });
      expect(await store.orders.find(input.orderId)).toMatchObject({ expiresAt: newDeadline, version: 1 });
      return handle.result();
    });

    expect(result).toMatchObject({ status: OrderStatus.Cancelled, ending: 'expired', expiresAt: newDeadline });
    expect((await env.currentTimeMs()) - startedAt).toBeGreaterThanOrEqual(FIFTEEN_MINUTES + FIVE_MINUTES);
    expect(await store.orders.find(input.orderId)).toMatchObject({ status: OrderStatus.Cancelled, version: 2 });
    expect(await outboxSubjects(store, input.orderId)).toEqual([
      'order:created',
      'order:updated',
      'order:expiring', // before the new deadline only: the extension came before the first reminder
      'expiration:complete',
      'order:cancelled',
    ]);
    await record('local-steps-extended', handle);
    const events = await store.outbox.pending(1000);
    expect(
      events.find((e) => e.subject === 'order:updated' && JSON.stringify(e.data).includes(input.orderId)),
    ).toMatchObject({
      msgId: `order:updated:${input.orderId}:1`,
      data: {
        id: input.orderId,
        version: 1,
        status: 'created',
        userId: input.userId,
        expiresAt: newDeadline,
        ticket: { id: input.ticket.id, price: input.ticket.price },
      },
    });
  });

  test('when the holder asks for a second extension beyond the limit, then the validator refuses it and nothing changes', async () => {
    const { input, handle } = await startOrder(FIFTEEN_MINUTES, ONE_EXTENSION);

    await withWorker(async () => {
      await handle.executeUpdate(extendHoldUpdate);
      expect(await refusalOf(handle.executeUpdate(extendHoldUpdate))).toBe('HoldExtensionLimitError');
      await handle.signal(paymentReceivedSignal, payment(input.orderId));
      return handle.result();
    });

    expect(await store.orders.find(input.orderId)).toMatchObject({
      status: OrderStatus.Complete,
      expiresAt: plus(input.expiresAt, FIVE_MINUTES),
      version: 2,
    });
    expect(await outboxSubjects(store, input.orderId)).toEqual(['order:created', 'order:updated']);
    // a refused update leaves no trace in the history: one extendHold step only
    const steps = stepsIn((await handle.fetchHistory()).events ?? []);
    expect(steps.filter((name) => name === 'extendHold')).toHaveLength(1);
  });

  test('when the worker was down across the deadline and an extension comes with the fired timer, then the hold has lapsed: refused, and the order expires at its deadline', async () => {
    const { input, handle } = await startOrder(FIFTEEN_MINUTES, ONE_EXTENSION, { expiringReminderSeconds: 0 });
    const timerStarted = async () =>
      (await handle.fetchHistory()).events?.some((e) => e.timerStartedEventAttributes) || undefined;
    // No sticky cache: the test server would keep the next task for this stopped worker.
    await withWorker(() => eventually(timerStarted, "the hold's timer"), undefined, { maxCachedWorkflows: 0 });

    // No worker: the timer fires, unheard. (The test server skips this only once the stopped
    // worker's last poll has run out, about a minute of real time.)
    await env.sleep(FIFTEEN_MINUTES + 60_000);
    // Sent before a worker is back, the update comes in the same workflow task as the fired timer.
    const refusal = refusalOf(handle.executeUpdate(extendHoldUpdate));
    const result = await withWorker(async () => {
      expect(await refusal).toBe('HoldLapsedError');
      return handle.result();
    });

    expect(result).toMatchObject({ status: OrderStatus.Cancelled, ending: 'expired', expiresAt: input.expiresAt });
    expect(await store.orders.find(input.orderId)).toMatchObject({ expiresAt: input.expiresAt, version: 1 });
    expect(await outboxSubjects(store, input.orderId)).toEqual([
      'order:created',
      'expiration:complete',
      'order:cancelled',
    ]);
  });

  test('when the order was placed without a hold policy (a workflow from before extensions), then no extension is allowed', async () => {
    const { input, handle } = await startOrder();

    await withWorker(async () => {
      expect(await refusalOf(handle.executeUpdate(extendHoldUpdate))).toBe('HoldExtensionLimitError');
      await handle.signal(paymentReceivedSignal, payment(input.orderId));
      return handle.result();
    });

    expect(await store.orders.find(input.orderId)).toMatchObject({ expiresAt: input.expiresAt, version: 1 });
  });

  test('when a payment arrives after the old deadline but before the new one, then it completes the extended order', async () => {
    const { input, handle } = await startOrder(FIFTEEN_MINUTES, ONE_EXTENSION);
    const paid = payment(input.orderId);

    const result = await withWorker(async () => {
      await handle.executeUpdate(extendHoldUpdate);
      await env.sleep(FIFTEEN_MINUTES + 2 * 60_000); // past the old deadline
      expect(await handle.query(orderStateQuery)).toMatchObject({ status: OrderStatus.Created });
      await handle.signal(paymentReceivedSignal, paid);
      return handle.result();
    });

    expect(result).toMatchObject({ status: OrderStatus.Complete, ending: 'paid', paymentId: paid.id });
    expect(await store.orders.find(input.orderId)).toMatchObject({ status: OrderStatus.Complete, version: 2 });
    expect(await outboxSubjects(store, input.orderId)).toEqual(['order:created', 'order:updated']);
  });

  test('when the order has ended, then an extension is refused as not active (the adapter maps it to the domain error)', async () => {
    const { input, handle } = await startOrder(FIFTEEN_MINUTES, ONE_EXTENSION);
    const workflows = temporalOrderWorkflows(env.client, taskQueue);

    await withWorker(async () => {
      await handle.signal(paymentReceivedSignal, payment(input.orderId));
      await handle.result();
      await expect(workflows.extendHold(input.orderId)).rejects.toBeInstanceOf(OrderNotActiveError);
    });

    expect(await store.orders.find(input.orderId)).toMatchObject({ status: OrderStatus.Complete, version: 1 });
    expect(await outboxSubjects(store, input.orderId)).toEqual(['order:created']);
  });

  test('when the adapter extends beyond the limit, then it throws the domain error HoldExtensionLimitError', async () => {
    const { input, handle } = await startOrder(FIFTEEN_MINUTES, ONE_EXTENSION);
    const workflows = temporalOrderWorkflows(env.client, taskQueue);

    await withWorker(async () => {
      await workflows.extendHold(input.orderId);
      const refused = workflows.extendHold(input.orderId);
      await expect(refused).rejects.toBeInstanceOf(HoldExtensionLimitError);
      await expect(refused).rejects.toThrow('at most 1 time');
      await handle.signal(orderCancelledSignal);
      return handle.result();
    });
  });

  test('when the deadline passes while an extension is in flight, then the expiry waits for it and the order ends once, at the new deadline', async () => {
    // While an activity runs, the test server does not skip time: a short window passes in real time.
    const WINDOW = 3000;
    let order: { input: NewOrder; handle: WorkflowHandle<typeof orderWorkflow> } | undefined;
    const history = async () => (await order!.handle.fetchHistory()).events ?? [];
    // The extension's activity is held until the old deadline's timer has fired.
    const racing = extendingAfter(() =>
      eventually(
        async () => ((await history()).some((e) => e.timerFiredEventAttributes) ? true : undefined),
        'the timer of the old deadline to fire',
      ).then(() => undefined),
    );

    const result = await withWorker(async () => {
      order = await startOrder(WINDOW, ONE_EXTENSION, { expiringReminderSeconds: 0 }); // the race alone
      // Holding first: an update that reached the workflow with its first task would schedule the
      // extension before the timer (a busy CI machine did that), which is another story than this one
      await eventually(
        async () => ((await history()).some((e) => e.timerStartedEventAttributes) ? true : undefined),
        'the hold to start the timer of its deadline',
      );
      const extended = await order.handle.executeUpdate(extendHoldUpdate);
      expect(extended.expiresAt).toBe(plus(order.input.expiresAt, FIVE_MINUTES));
      return order.handle.result();
    }, racing);

    const { input } = order!;
    const newDeadline = plus(input.expiresAt, FIVE_MINUTES);
    expect(result).toMatchObject({ status: OrderStatus.Cancelled, ending: 'expired', expiresAt: newDeadline });
    expect(await env.currentTimeMs()).toBeGreaterThanOrEqual(Date.parse(newDeadline));
    expect(await store.orders.find(input.orderId)).toMatchObject({ status: OrderStatus.Cancelled, version: 2 });
    expect(await outboxSubjects(store, input.orderId)).toEqual([
      'order:created',
      'order:updated',
      'expiration:complete',
      'order:cancelled',
    ]);
    // the old deadline's timer fired while the extension ran; a second timer held until the new one
    const kinds = (await history()).flatMap((e) =>
      e.timerFiredEventAttributes
        ? ['timer fired']
        : e.timerStartedEventAttributes
          ? ['timer started']
          : (stepOf(e) ?? []),
    );
    expect(kinds).toEqual([
      'timer started',
      'timer fired',
      'extendHold', // a local activity: recorded once it ran, after the old deadline's timer fired
      'timer started',
      'timer fired',
      'expireOrder',
    ]);
  });

  test('when a payment completes the order while an extension is in flight, then the extension is refused and the order ends paid, once', async () => {
    const { input, handle } = await startOrder(FIFTEEN_MINUTES, ONE_EXTENSION);
    const paid = payment(input.orderId);
    // What the payments consumer does while the extension's activity starts: decide, then signal.
    const racing = extendingAfter(async () => {
      await store.orders.apply(pay(paid));
      await handle.signal(paymentReceivedSignal, paid);
    });

    const result = await withWorker(async () => {
      expect(await refusalOf(handle.executeUpdate(extendHoldUpdate))).toBe('OrderNotActiveError');
      return handle.result();
    }, racing);

    expect(result).toMatchObject({
      status: OrderStatus.Complete,
      ending: 'paid',
      paymentId: paid.id,
      rejectedPaymentIds: [],
    });
    expect(await store.orders.find(input.orderId)).toMatchObject({
      status: OrderStatus.Complete,
      expiresAt: input.expiresAt,
      version: 1,
    });
    expect(await outboxSubjects(store, input.orderId)).toEqual(['order:created']);
  });
});

describe('reminding the holder before the deadline (order:expiring)', () => {
  const TWO_MINUTES = 120_000;
  const events = async (orderId: string, subject: string) =>
    (await store.outbox.pending(1000)).filter((e) => e.subject === subject && JSON.stringify(e.data).includes(orderId));
  /**
   * Real time that time-skipping adds between a timer firing and the activity it schedules: one
   * workflow task on a busy machine. Far less than the gap between any two reminder settings.
   */
  const SCHEDULING_SLACK_MS = 30_000;
  /**
   * How long before `deadline` each remindExpiring step was recorded, from the event's full instant
   * (seconds and nanoseconds) against the seeded deadline: whole seconds of two instants taken apart
   * differ by one whenever the sub-second part wraps between them.
   */
  async function remindersBefore(handle: WorkflowHandle, deadline: string): Promise<number[]> {
    const history = (await handle.fetchHistory()).events ?? [];
    return history.filter((e) => stepOf(e) === 'remindExpiring').map((e) => Date.parse(deadline) - eventMs(e));
  }
  /** One reminder, scheduled no earlier than `leadMs` before `deadline` and not much later. */
  async function expectOneReminder(handle: WorkflowHandle, deadline: string, leadMs: number): Promise<void> {
    const leads = await remindersBefore(handle, deadline);
    expect(leads).toHaveLength(1);
    expect(leads[0]).toBeLessThanOrEqual(leadMs);
    expect(leads[0]).toBeGreaterThan(leadMs - SCHEDULING_SLACK_MS);
  }

  test('when the order is still active 2 minutes before its deadline, then order:expiring is published once, keyed by order and deadline, and the order then expires', async () => {
    const { input, handle } = await startOrder(FIFTEEN_MINUTES, undefined, { expiringReminderSeconds: 120 });

    const result = await withWorker(() => handle.result());

    expect(result).toMatchObject({ status: OrderStatus.Cancelled, ending: 'expired' });
    await expectOneReminder(handle, input.expiresAt, TWO_MINUTES);
    expect(await events(input.orderId, 'order:expiring')).toMatchObject([
      {
        msgId: `order:expiring:${input.orderId}:${input.expiresAt}`,
        data: {
          id: input.orderId,
          version: 0,
          userId: input.userId,
          expiresAt: input.expiresAt,
          ticket: { id: input.ticket.id },
        },
      },
    ]);
    expect(await outboxSubjects(store, input.orderId)).toEqual([
      'order:created',
      'order:expiring',
      'expiration:complete',
      'order:cancelled',
    ]);
    await record('local-steps-reminded', handle);
  });

  test('when the hold is extended after the reminder, then the new deadline gets its own reminder', async () => {
    const { input, handle } = await startOrder(FIFTEEN_MINUTES, { maxExtensions: 1, extensionSeconds: 300 });
    const newDeadline = new Date(Date.parse(input.expiresAt) + 300_000).toISOString();

    const result = await withWorker(async () => {
      await env.sleep(FIFTEEN_MINUTES - 60_000); // past the first reminder
      await eventually(
        async () => ((await events(input.orderId, 'order:expiring')).length === 1 ? true : undefined),
        'the first reminder',
      );
      await handle.executeUpdate(extendHoldUpdate);
      return handle.result();
    });

    expect(result).toMatchObject({ status: OrderStatus.Cancelled, ending: 'expired', expiresAt: newDeadline });
    expect((await events(input.orderId, 'order:expiring')).map((e) => e.msgId)).toEqual([
      `order:expiring:${input.orderId}:${input.expiresAt}`,
      `order:expiring:${input.orderId}:${newDeadline}`,
    ]);
    expect(await outboxSubjects(store, input.orderId)).toEqual([
      'order:created',
      'order:expiring',
      'order:updated',
      'order:expiring',
      'expiration:complete',
      'order:cancelled',
    ]);
    await record('local-steps-reminded-extended', handle);
  });

  test.each([
    ['a window shorter than the reminder', 90_000, 120],
    ['reminders off (0)', FIFTEEN_MINUTES, 0],
  ])('when the order has %s, then it expires without a reminder', async (_what, windowMs, expiringReminderSeconds) => {
    const { input, handle } = await startOrder(windowMs, undefined, { expiringReminderSeconds });

    const result = await withWorker(() => handle.result());

    expect(result).toMatchObject({ status: OrderStatus.Cancelled, ending: 'expired' });
    expect(await remindersBefore(handle, input.expiresAt)).toEqual([]);
    expect(await outboxSubjects(store, input.orderId)).toEqual([
      'order:created',
      'expiration:complete',
      'order:cancelled',
    ]);
  });

  test('when the database completed the order but its signal is late, then the reminder finds it ended and publishes nothing', async () => {
    const { input, handle } = await startOrder();
    const paid = payment(input.orderId);

    const result = await withWorker(async () => {
      await env.sleep('5 minutes');
      await store.orders.apply(pay(paid)); // the payments consumer decided it; its signal comes after the reminder
      await env.sleep('9 minutes'); // past the reminder, before the deadline
      await handle.signal(paymentReceivedSignal, paid);
      return handle.result();
    });

    expect(result).toMatchObject({ status: OrderStatus.Complete, paymentId: paid.id, rejectedPaymentIds: [] });
    await expectOneReminder(handle, input.expiresAt, TWO_MINUTES);
    expect(await outboxSubjects(store, input.orderId)).toEqual(['order:created']);
  });
});

describe('changing the workflow while orders are in flight (patched, docs/changing-the-workflow.md)', () => {
  let v1: WorkflowBundleWithSourceMap;
  beforeAll(async () => {
    // The code from before order:expiring, frozen: what the workers ran when these orders started.
    v1 = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/order.workflow.v1'),
      logger: quietLogger,
    });
  });
  const patchMarkers = async (handle: WorkflowHandle) => patchMarkersIn((await handle.fetchHistory()).events ?? []);

  test('when an order started on the code before the reminder is finished by the new code, then it expires correctly without a reminder, and a new order gets one', async () => {
    // Placed by the new API (with the reminder's setting), run by a worker still on the old code.
    const old = await startOrder(FIFTEEN_MINUTES, undefined, { expiringReminderSeconds: 120 });
    await withWorker(
      () =>
        eventually(
          async () =>
            (await old.handle.fetchHistory()).events?.some((e) => e.timerStartedEventAttributes) ? true : undefined,
          'the old code to wait on its timer',
        ),
      undefined,
      // No sticky cache: the test server would keep the order's next task for this stopped worker
      // (a real server hands it to another worker after its sticky timeout, 5 s).
      { workflowBundle: v1, maxCachedWorkflows: 0 },
    );

    // The old worker is gone; the new one finishes the old order, then runs a new one (one at a time:
    // the test server skips time more predictably).
    let fresh: Awaited<ReturnType<typeof startOrder>> | undefined;
    const [oldResult, freshResult] = await withWorker(async () => {
      const finished = await old.handle.result();
      fresh = await startOrder(FIFTEEN_MINUTES, undefined, { expiringReminderSeconds: 120 });
      await fresh.handle.query(orderStateQuery); // its first task done before time skips ahead
      return [finished, await fresh.handle.result()] as const;
    });

    expect(oldResult).toMatchObject({
      status: OrderStatus.Cancelled,
      ending: 'expired',
      expiresAt: old.input.expiresAt,
    });
    expect(await store.orders.find(old.input.orderId)).toMatchObject({ status: OrderStatus.Cancelled, version: 1 });
    expect(await outboxSubjects(store, old.input.orderId)).toEqual([
      'order:created',
      'expiration:complete',
      'order:cancelled',
    ]);
    expect(await patchMarkers(old.handle)).toBe(0); // it passed the patch point on the old code

    expect(freshResult).toMatchObject({ status: OrderStatus.Cancelled, ending: 'expired' });
    expect(await outboxSubjects(store, fresh!.input.orderId)).toEqual([
      'order:created',
      'order:expiring',
      'expiration:complete',
      'order:cancelled',
    ]);
    expect(await patchMarkers(fresh!.handle)).toBe(1); // the local steps', which imply the reminder
    // The old order keeps running its steps as activity tasks; the new one runs them as local activities.
    const expiries = async (handle: WorkflowHandle) =>
      ((await handle.fetchHistory()).events ?? [])
        .filter((e) => stepOf(e) === 'expireOrder')
        .map((e) => ({
          task: e.activityTaskScheduledEventAttributes ? 'activity task' : 'local activity',
        }));
    expect(await expiries(old.handle)).toEqual([{ task: 'activity task' }]);
    expect(await expiries(fresh!.handle)).toEqual([{ task: 'local activity' }]);
    await record('started-before-reminder', old.handle);
  });
});

const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (message: string) => console.error(message),
};
