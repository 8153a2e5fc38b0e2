/**
 * payments-progress.ts on a real nats-server: the answer an expiry waits on before it cancels an
 * order (invariant 7, "a payment published before expiresAt completes the order"). The stream and
 * the payments consumer are the service's own (connectEventBus, ensureConsumer, PAYMENTS_CONSUMER);
 * real `payment:created` messages are published, taken by a real fetch of the consumer and acked
 * (or not), and the module is asked whether a deadline has been passed.
 */
import pino from 'pino';
import type { JetStreamManager, JsMsg } from 'nats';
import { connectEventBus, ensureConsumer, type EventBus } from '../../src/events/jetstream';
import { PAYMENTS_CONSUMER } from '../../src/events/payments-consumer';
import { paymentsProgress } from '../../src/events/payments-progress';
import { Subjects, type Subject } from '../../src/orders/catalogue';
import { eventually } from '../../scripts/lib/eventually';
import { startTestNats, type TestNats } from '../support/nats';
import { newId } from '../support/orders';

const STREAM = 'ticketing';
const logger = pino({ level: 'silent' });
let nats: TestNats | undefined;
let bus: EventBus | undefined;

// A server of its own for each test: a stream deleted and made again under the same name can find
// the old one's messages on disk (its sequences then start after them).
beforeEach(async () => {
  nats = await startTestNats();
  bus = await connectEventBus(nats.url, STREAM, 'payments-progress-test', logger); // creates the service's stream
});

afterEach(async () => {
  try {
    await bus?.close();
  } finally {
    await nats?.stop();
    bus = undefined;
    nats = undefined;
  }
});

const theBus = (): EventBus => {
  if (!bus) throw new Error('no bus: beforeEach failed');
  return bus;
};
const iso = (ms: number): string => new Date(ms).toISOString();
const HOUR = 3600_000;

/** The payments consumer, as the worker's payments loop creates it (its one subject). */
const createPaymentsConsumer = () => ensureConsumer(theBus(), PAYMENTS_CONSUMER, [Subjects.PaymentCreated]);

/** Publishes an event, and reads back the time the stream stored it (the time the module compares). */
async function publish(subject: Subject, data: unknown): Promise<{ seq: number; at: number }> {
  const ack = await theBus().js.publish(subject, JSON.stringify(data));
  const stored = await theBus().jsm.streams.getMessage(STREAM, { seq: ack.seq });
  return { seq: ack.seq, at: stored.time.getTime() };
}
const publishPayment = () => publish(Subjects.PaymentCreated, { id: newId(), orderId: newId(), stripeId: 'ch_1' });

/** Takes the payments waiting on the consumer with one real fetch, without acking them. */
async function fetchPayments(seqs: number[]): Promise<JsMsg[]> {
  const consumer = await theBus().js.consumers.get(STREAM, PAYMENTS_CONSUMER);
  const taken: JsMsg[] = [];
  for await (const m of await consumer.fetch({ max_messages: seqs.length, expires: 10_000 })) taken.push(m);
  expect(taken.map((m) => m.seq)).toEqual(seqs);
  return taken;
}

/** Acks as the consumer loop does, waiting for the server to confirm, so that the ack floor has moved. */
async function ack(msg: JsMsg): Promise<void> {
  expect(await msg.ackAck()).toBe(true);
}

/** The bus, with `between` run after the module has read the consumer's info and before it reads the stream. */
function withStepBetween(b: EventBus, between: () => Promise<void>): EventBus {
  const consumers = Object.create(b.jsm.consumers, {
    info: {
      value: async (stream: string, durable: string) => {
        const info = await b.jsm.consumers.info(stream, durable);
        await between();
        return info;
      },
    },
  }) as JetStreamManager['consumers'];
  return { ...b, jsm: Object.create(b.jsm, { consumers: { value: consumers } }) as JetStreamManager };
}

test('when the stream holds no payment, then every deadline is consumed', async () => {
  await createPaymentsConsumer();
  const progress = paymentsProgress(theBus(), PAYMENTS_CONSUMER);
  expect(await progress.consumedUntil(iso(Date.now() + HOUR))).toBe(true);

  // Other events on the stream are not payments: the consumer does not wait for them.
  await publish(Subjects.OrderCreated, { id: newId() });
  expect(await progress.consumedUntil(iso(Date.now() + HOUR))).toBe(true);
});

test('when the payments consumer does not exist yet, then it fails instead of answering', async () => {
  await publishPayment();
  await expect(paymentsProgress(theBus(), PAYMENTS_CONSUMER).consumedUntil(iso(Date.now() + HOUR))).rejects.toThrow(
    'consumer not found',
  );
});

test('when a payment published before the deadline has not been taken, then the deadline is not consumed', async () => {
  await createPaymentsConsumer();
  const payment = await publishPayment();
  expect(await paymentsProgress(theBus(), PAYMENTS_CONSUMER).consumedUntil(iso(payment.at + HOUR))).toBe(false);
});

test('when a pending payment was published exactly at the deadline, then the deadline is not consumed', async () => {
  await createPaymentsConsumer();
  const payment = await publishPayment();
  // In time: pay() accepts a payment published at expiresAt, so the expiry must wait for it.
  expect(await paymentsProgress(theBus(), PAYMENTS_CONSUMER).consumedUntil(iso(payment.at))).toBe(false);
});

test('when the only pending payment was published after the deadline, then the deadline is consumed', async () => {
  await createPaymentsConsumer();
  const payment = await publishPayment();
  expect(await paymentsProgress(theBus(), PAYMENTS_CONSUMER).consumedUntil(iso(payment.at - 1))).toBe(true);
});

test('when a payment has been delivered but not acked, then the deadline is consumed only once it is acked', async () => {
  await createPaymentsConsumer();
  const payment = await publishPayment();
  const [msg] = await fetchPayments([payment.seq]);
  const info = await theBus().jsm.consumers.info(STREAM, PAYMENTS_CONSUMER);
  expect([info.num_pending, info.num_ack_pending]).toEqual([0, 1]); // delivered, not decided

  const progress = paymentsProgress(theBus(), PAYMENTS_CONSUMER);
  expect(await progress.consumedUntil(iso(payment.at + HOUR))).toBe(false);
  await ack(msg!);
  expect(await progress.consumedUntil(iso(payment.at + HOUR))).toBe(true);
});

test('when a later payment is acked before an earlier one, then the earlier one still holds the deadline', async () => {
  await createPaymentsConsumer();
  const first = await publishPayment();
  const second = await publishPayment();
  const [firstMsg, secondMsg] = await fetchPayments([first.seq, second.seq]);
  await ack(secondMsg!);
  expect((await theBus().jsm.consumers.info(STREAM, PAYMENTS_CONSUMER)).ack_floor.stream_seq).toBeLessThan(first.seq);

  const progress = paymentsProgress(theBus(), PAYMENTS_CONSUMER);
  expect(await progress.consumedUntil(iso(second.at))).toBe(false);
  await ack(firstMsg!);
  expect(await progress.consumedUntil(iso(second.at))).toBe(true);
});

test('when other events sit between the ack floor and the next payment, then that payment is judged, not them', async () => {
  await createPaymentsConsumer();
  const acked = await publishPayment();
  const [msg] = await fetchPayments([acked.seq]);
  await ack(msg!);
  const other = await publish(Subjects.OrderCreated, { id: newId() });
  // The stream stamps in milliseconds here: the next payment must come in a later one than the other event.
  await eventually(async () => (Date.now() > other.at ? true : undefined), 'the clock to pass the other event');
  const pending = await publishPayment();
  expect(pending.at).toBeGreaterThan(other.at);
  expect((await theBus().jsm.consumers.info(STREAM, PAYMENTS_CONSUMER)).ack_floor.stream_seq).toBe(acked.seq);
  expect(other.seq).toBe(acked.seq + 1); // the message just above the floor is not a payment

  const progress = paymentsProgress(theBus(), PAYMENTS_CONSUMER);
  // The deadline is when the other event was published: the payment after it does not hold it.
  expect(await progress.consumedUntil(iso(other.at))).toBe(true);
  expect(await progress.consumedUntil(iso(pending.at))).toBe(false);
});

test('when the pending payment is gone from the stream by the time it is looked up, then the deadline is consumed', async () => {
  await createPaymentsConsumer();
  const payment = await publishPayment();
  const raced = withStepBetween(theBus(), async () => {
    expect(await theBus().jsm.streams.deleteMessage(STREAM, payment.seq)).toBe(true);
  });
  // No payment is above the ack floor any more: none can hold the deadline.
  expect(await paymentsProgress(raced, PAYMENTS_CONSUMER).consumedUntil(iso(payment.at + HOUR))).toBe(true);
});

test('when NATS fails while the next payment is looked up, then it fails instead of answering', async () => {
  await createPaymentsConsumer();
  const payment = await publishPayment();
  const own = await connectEventBus(nats!.url, STREAM, 'payments-progress-closed', logger);
  try {
    const raced = withStepBetween(own, () => own.nc.close());
    await expect(paymentsProgress(raced, PAYMENTS_CONSUMER).consumedUntil(iso(payment.at + HOUR))).rejects.toThrow(
      /closed/i,
    );
  } finally {
    if (!own.nc.isClosed()) await own.close();
  }
});
