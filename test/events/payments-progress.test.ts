/**
 * payments-progress.ts on a real nats-server: the answer an expiry needs before it cancels an
 * order (invariant 7, "a payment published before expiresAt completes the order"), in the stream's
 * clock. The stream and the payments consumer are the service's own (connectEventBus,
 * ensureConsumer, PAYMENTS_CONSUMER); real `payment:created` messages are published, taken by a
 * real fetch of the consumer and acked (or not), and the module is asked whether a deadline has
 * been passed. A deadline is "passed" only once the stream's own clock is past it, so most tests
 * wait for the machine's clock (the stream's, here) to pass theirs first.
 */
import pino from 'pino';
import type { JetStreamManager, JsMsg } from 'nats';
import { connectEventBus, ensureConsumer, type EventBus } from '../../src/events/jetstream';
import { PAYMENTS_CONSUMER } from '../../src/events/payments-consumer';
import { paymentsProgress } from '../../src/events/payments-progress';
import { Subjects, type Subject } from '../../src/orders/catalogue';
import { FENCE_SUBJECT } from '../../src/events/jetstream';
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

/** Until the stream's clock (this machine's) is past `ms`: a deadline is judged in it. */
const clockPast = (ms: number) =>
  eventually(async () => (Date.now() > ms + 1 ? true : undefined), 'the clock to pass the deadline');

test('when the stream holds no payment, then a deadline its clock has passed is consumed, and one ahead is not', async () => {
  await createPaymentsConsumer();
  const progress = paymentsProgress(theBus(), PAYMENTS_CONSUMER);
  expect(await progress.consumedUntil(iso(Date.now() - 1000))).toBe(true);
  expect(await progress.consumedUntil(iso(Date.now() + HOUR))).toBe(false); // a payment may still be stamped before it

  // Other events on the stream are not payments: the consumer does not wait for them.
  const other = await publish(Subjects.OrderCreated, { id: newId() });
  await clockPast(other.at);
  expect(await progress.consumedUntil(iso(other.at))).toBe(true);
});

test('when the payments consumer does not exist yet, then it fails instead of answering', async () => {
  await publishPayment();
  await expect(paymentsProgress(theBus(), PAYMENTS_CONSUMER).consumedUntil(iso(Date.now() - 1000))).rejects.toThrow(
    'consumer not found',
  );
});

test('when a payment published before the deadline has not been taken, then the deadline is not consumed', async () => {
  await createPaymentsConsumer();
  const payment = await publishPayment();
  await clockPast(payment.at + 1);
  expect(await paymentsProgress(theBus(), PAYMENTS_CONSUMER).consumedUntil(iso(payment.at + 1))).toBe(false);
});

test('when a pending payment was published exactly at the deadline, then the deadline is not consumed', async () => {
  await createPaymentsConsumer();
  const payment = await publishPayment();
  await clockPast(payment.at);
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
  await clockPast(payment.at + 1);

  const progress = paymentsProgress(theBus(), PAYMENTS_CONSUMER);
  expect(await progress.consumedUntil(iso(payment.at + 1))).toBe(false);
  await ack(msg!);
  expect(await progress.consumedUntil(iso(payment.at + 1))).toBe(true);
});

test('when a later payment is acked before an earlier one, then the earlier one still holds the deadline', async () => {
  await createPaymentsConsumer();
  const first = await publishPayment();
  const second = await publishPayment();
  const [firstMsg, secondMsg] = await fetchPayments([first.seq, second.seq]);
  await ack(secondMsg!);
  expect((await theBus().jsm.consumers.info(STREAM, PAYMENTS_CONSUMER)).ack_floor.stream_seq).toBeLessThan(first.seq);
  await clockPast(second.at);

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
  await clockPast(other.at);
  const pending = await publishPayment();
  expect(pending.at).toBeGreaterThan(other.at);
  expect((await theBus().jsm.consumers.info(STREAM, PAYMENTS_CONSUMER)).ack_floor.stream_seq).toBe(acked.seq);
  expect(other.seq).toBe(acked.seq + 1); // the message just above the floor is not a payment
  await clockPast(pending.at);

  const progress = paymentsProgress(theBus(), PAYMENTS_CONSUMER);
  // The deadline is when the other event was published: the payment after it does not hold it.
  expect(await progress.consumedUntil(iso(other.at))).toBe(true);
  expect(await progress.consumedUntil(iso(pending.at))).toBe(false);
});

test('when the pending payment is gone from the stream by the time it is looked up, then the deadline is consumed', async () => {
  await createPaymentsConsumer();
  const payment = await publishPayment();
  await clockPast(payment.at + 1);
  const raced = withStepBetween(theBus(), async () => {
    expect(await theBus().jsm.streams.deleteMessage(STREAM, payment.seq)).toBe(true);
  });
  // No payment is above the ack floor any more: none can hold the deadline.
  expect(await paymentsProgress(raced, PAYMENTS_CONSUMER).consumedUntil(iso(payment.at + 1))).toBe(true);
});

test('when NATS fails while the next payment is looked up, then it fails instead of answering', async () => {
  await createPaymentsConsumer();
  const payment = await publishPayment();
  const own = await connectEventBus(nats!.url, STREAM, 'payments-progress-closed', logger);
  try {
    const raced = withStepBetween(own, () => own.nc.close());
    await expect(paymentsProgress(raced, PAYMENTS_CONSUMER).consumedUntil(iso(payment.at - 1000))).rejects.toThrow(
      /closed/i,
    );
  } finally {
    if (!own.nc.isClosed()) await own.close();
  }
});

describe("when the expiry's clock runs 3 seconds ahead of the stream's (invariant 7 in one clock)", () => {
  test('then, with nothing pending, its deadline is not consumed until the stream has passed it, and a payment stamped before it in the meantime holds it until decided', async () => {
    await createPaymentsConsumer();
    const progress = paymentsProgress(theBus(), PAYMENTS_CONSUMER);
    const streamNow = (await publish(Subjects.OrderCreated, { id: newId() })).at;
    // The order's timer has fired by the worker's clock: its deadline is 3 s ahead of the stream's now.
    const deadline = iso(streamNow + 3000);

    // Nothing is pending, yet the stream may still stamp a payment before the deadline: not consumed
    // (judged by "nothing pending now", the expiry went ahead here).
    expect(await progress.consumedUntil(deadline)).toBe(false);
    const payment = await publishPayment(); // the holder pays now: in time, by the stream's clock
    expect(payment.at).toBeLessThanOrEqual(Date.parse(deadline));
    expect(await progress.consumedUntil(deadline)).toBe(false);

    const [msg] = await fetchPayments([payment.seq]);
    await ack(msg!); // decided: it completed the order
    await eventually(
      async () => ((await progress.consumedUntil(deadline)) ? true : undefined),
      'the stream to pass it',
    );
    expect(Date.now()).toBeGreaterThan(Date.parse(deadline));
  });
});

test('when many expiries ask at once, then one fence answers them all, and the stream keeps one fence per process', async () => {
  await createPaymentsConsumer();
  const progress = paymentsProgress(theBus(), PAYMENTS_CONSUMER);
  const before = (await theBus().jsm.streams.info(STREAM)).state.last_seq;
  const deadline = iso(Date.now() - 1000);
  expect(await Promise.all(Array.from({ length: 20 }, () => progress.consumedUntil(deadline)))).toEqual(
    Array(20).fill(true),
  );
  expect((await theBus().jsm.streams.info(STREAM)).state.last_seq).toBe(before + 1);

  await progress.consumedUntil(iso(Date.now() + HOUR)); // not answered by the last fence: a new one
  const fences = await theBus().jsm.streams.info(STREAM, { subjects_filter: FENCE_SUBJECT });
  expect(fences.state.subjects).toEqual({ [FENCE_SUBJECT]: 1 });
});
