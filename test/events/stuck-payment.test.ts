/**
 * One payment that can never be decided (its decision throws every time: a bug, a row no rule
 * accepts) must not hold up every expiry: each expiry waits until the payments before its deadline
 * are decided. After its attempts it is set aside (kept in payments_set_aside, counted, logged) and
 * acked, and the payments after it flow. Real nats-server, real SQLite, the service's own consumer
 * loop, handlers and payments progress.
 */
import pino from 'pino';
import { runConsumer, type RunningConsumer } from '../../src/events/consumer';
import { connectEventBus, type EventBus } from '../../src/events/jetstream';
import { PAYMENTS_CONSUMER, paymentHandlers } from '../../src/events/payments-consumer';
import { paymentsProgress } from '../../src/events/payments-progress';
import { cancelByUser } from '../../src/orders/decisions';
import type { OrderRepository } from '../../src/orders/ports';
import { eventually } from '../../scripts/lib/eventually';
import { sqliteStore, type TestDatabase } from '../support/database';
import { counterValue } from '../support/metrics';
import { startTestNats, type TestNats } from '../support/nats';
import { newId, seedOrder } from '../support/orders';

const logged: Array<{ msg: string; paymentId?: string }> = [];
const logger = pino({ level: 'warn' }, { write: (line: string) => logged.push(JSON.parse(line)) });
let nats: TestNats;
let db: TestDatabase;
let bus: EventBus;
let consumer: RunningConsumer | undefined;

beforeAll(async () => {
  [nats, db] = await Promise.all([startTestNats(), sqliteStore()]);
  bus = await connectEventBus(nats.url, 'ticketing', 'stuck-payment-test', logger);
});
afterAll(async () => {
  await consumer?.stop();
  await bus?.close();
  await Promise.all([nats?.stop(), db?.cleanup()]);
});

test('when one payment can never be decided, then it is set aside after its attempts, and the expiries and payments after it flow', async () => {
  const { store } = db;
  const poison = newId();
  const orders: Pick<OrderRepository, 'apply'> = {
    apply: (command) =>
      command.paymentId === poison
        ? Promise.reject(new Error('no rule accepts this row'))
        : store.orders.apply(command),
  };
  const setAsideBefore = await counterValue('orders_payments_set_aside_total');
  consumer = await runConsumer(
    bus,
    PAYMENTS_CONSUMER,
    paymentHandlers({
      orders,
      workflows: { signalPayment: async () => false },
      setAside: store.paymentsSetAside,
      logger,
      maxAttempts: 3,
    }),
    logger,
  );
  const late = await seedOrder(store, Date.now());
  await store.orders.apply(cancelByUser(late.orderId));
  const stuck = { id: poison, orderId: newId(), stripeId: 'ch_stuck' };
  const after = { id: newId(), orderId: late.orderId, stripeId: 'ch_after' };
  const stuckAck = await bus.js.publish('payment:created', JSON.stringify(stuck));
  await bus.js.publish('payment:created', JSON.stringify(after));
  const stored = await bus.jsm.streams.getMessage('ticketing', { seq: stuckAck.seq });

  // The payment after it is decided at once (refused: its order was cancelled), while the stuck one comes again.
  await eventually(
    () =>
      store.db.selectFrom('payments_decided').select('accepted').where('payment_id', '=', after.id).executeTakeFirst(),
    'the next payment to be decided',
  );
  const progress = paymentsProgress(bus, PAYMENTS_CONSUMER);
  const deadline = new Date(stored.time.getTime() + 1).toISOString(); // an order whose deadline is after the stuck payment
  expect(await progress.consumedUntil(deadline)).toBe(false); // it holds every such expiry, for now

  const kept = await eventually(
    () => store.db.selectFrom('payments_set_aside').selectAll().where('payment_id', '=', poison).executeTakeFirst(),
    'the stuck payment to be set aside',
  );
  expect(kept).toMatchObject({
    stream_seq: stuckAck.seq,
    reason: 'no decision after 3 attempts: no rule accepts this row',
  });
  expect(JSON.parse(kept.data)).toEqual(stuck);
  expect(await counterValue('orders_payments_set_aside_total')).toBe(setAsideBefore + 1);
  expect(logged.find((l) => l.paymentId === poison)?.msg).toBe(
    'payment set aside: decide it by hand (payments_set_aside)',
  );
  await eventually(async () => ((await progress.consumedUntil(deadline)) ? true : undefined), 'the expiries to flow');
});
