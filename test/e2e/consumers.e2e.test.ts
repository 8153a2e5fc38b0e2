/**
 * The worker's consumers keep consuming, or say that they don't. Under a running worker (real
 * nats-server, the run's Temporal dev server), JetStream loses the consumer or the whole stream:
 * each time that is logged, /readyz names the consumers that are down, and once JetStream can
 * take them again they are recreated and the other services' events flow again. Before this, a
 * deleted consumer ended the worker's loop without a word, and events stopped for good.
 */
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import pino from 'pino';
import { connectEventBus } from '../../src/events/jetstream';
import { cancelByUser, place } from '../../src/orders/decisions';
import { eventually } from '../../scripts/lib/eventually';
import { freePort } from '../../scripts/lib/servers';
import { capturingLogger, type LogLine } from '../support/logs';
import { CoreNatsPeer } from '../support/nats';
import { newId } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

const STREAM = 'ticketing';
let system: TestSystem;
let peer: CoreNatsPeer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let healthPort: number;
let logs: LogLine[];

beforeAll(async () => {
  healthPort = await freePort();
  const captured = capturingLogger();
  logs = captured.lines;
  system = await startSystem({
    database: 'sqlite',
    expirationSeconds: 60,
    env: { WORKER_HEALTH_PORT: String(healthPort) },
    logger: captured.logger,
  });
  peer = await CoreNatsPeer.connect(system.nats.url);
  nc = await connect({ servers: system.nats.url });
  jsm = await nc.jetstreamManager();
});

afterAll(async () => {
  await nc?.close();
  await peer?.close();
  await system?.stop();
});

async function readyz(): Promise<{ status: number; checks: Record<string, string> }> {
  const res = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
  return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
}

/** Another service publishes a new ticket with core NATS; the worker's copy of it appears. */
async function ticketFlows(): Promise<void> {
  const id = newId();
  await peer.publish('ticket:created', { id, version: 0, title: 'concert', price: 10, userId: newId() });
  await eventually(() => system.db.store.tickets.find(id), `the copy of ticket ${id}`);
}

const logged = (consumer: string, msg: string, after: number) =>
  eventually(async () => logs.slice(after).find((l) => l.consumer === consumer && l.msg.startsWith(msg)), msg);

test('when the tickets consumer is deleted under the running worker, then it is logged, recreated, and ticket:created flows again', async () => {
  await ticketFlows();
  const before = logs.length;

  await jsm.consumers.delete(STREAM, 'orders-tickets');

  await ticketFlows();
  const failure = await logged('orders-tickets', 'consumer stopped consuming', before);
  expect(failure).toMatchObject({ level: 50, err: { message: 'consumer deleted' } });
  await logged('orders-tickets', 'consumer consuming again', before);
  expect(await jsm.consumers.info(STREAM, 'orders-tickets')).toMatchObject({ name: 'orders-tickets' });
  expect(await readyz()).toMatchObject({ status: 200, checks: { 'consumer orders-tickets': 'ok' } });
});

test('when the payments consumer is deleted and created again, then it resumes after its recorded floor: no payment is decided twice, even once its refusal was pruned', async () => {
  const { store } = system.db;
  const js = nc.jetstream();
  /** A payment for an order that was cancelled: the service refuses it with payment:rejected. */
  const latePayment = async () => {
    const order = { orderId: newId(), userId: newId(), ticket: { id: newId(), title: 'late', price: 5 } };
    await store.tickets.upsert({ ...order.ticket, version: 0 });
    const placed = { ...order, expiresAt: new Date(Date.now() + 60_000).toISOString() };
    await store.orders.record(place(placed, new Date().toISOString(), 0));
    await store.orders.apply(cancelByUser(order.orderId));
    const payment = { id: newId(), orderId: order.orderId, stripeId: `ch_${newId()}` };
    const { seq } = await js.publish('payment:created', JSON.stringify(payment));
    return { payment, seq };
  };
  const refusals = (paymentId: string) =>
    store.db.selectFrom('outbox').select('id').where('msg_id', '=', `payment:rejected:${paymentId}`).execute();

  const first = await latePayment();
  await eventually(async () => ((await refusals(first.payment.id)).length === 1 ? true : undefined), 'the refusal');
  await eventually(async () => {
    const floor = await store.consumerPositions.floorOf('orders-payments');
    return floor && floor.streamSeq >= first.seq ? floor : undefined;
  }, 'the floor past the first payment to be recorded');
  // A day later: its outbox row is pruned, and JetStream's 2-minute duplicate window is long past.
  await store.db.deleteFrom('outbox').where('msg_id', '=', `payment:rejected:${first.payment.id}`).execute();
  const before = logs.length;

  await jsm.consumers.delete(STREAM, 'orders-payments');
  const second = await latePayment(); // comes after the first in the stream: once it is decided, a replay would have been too

  await eventually(
    async () => ((await refusals(second.payment.id)).length === 1 ? true : undefined),
    'the next refusal',
  );
  expect(await refusals(first.payment.id)).toEqual([]);
  const created = await logged('orders-payments', 'consumer created after its recorded ack floor', before);
  expect(created.startSeq).toBeGreaterThan(first.seq);
  const decided = await store.db
    .selectFrom('payments_decided')
    .selectAll()
    .where('payment_id', 'in', [first.payment.id, second.payment.id])
    .execute();
  expect(decided.map((d) => [d.payment_id, d.accepted])).toEqual(
    expect.arrayContaining([
      [first.payment.id, 0],
      [second.payment.id, 0],
    ]),
  );
});

test('when the stream is deleted, then /readyz names each consumer as down until the stream is back, and then events flow again', async () => {
  expect(await readyz()).toEqual({
    status: 200,
    checks: {
      database: 'ok',
      nats: 'ok',
      temporal: 'ok',
      'temporal worker': 'ok',
      'consumer orders-tickets': 'ok',
      'consumer orders-payments': 'ok',
    },
  });

  await jsm.streams.delete(STREAM);

  // Nothing can consume until the stream is back: both consumers stay down, and say so.
  const down = await eventually(async () => {
    const r = await readyz();
    return Object.keys(r.checks).every((c) => !c.startsWith('consumer ') || r.checks[c] !== 'ok') ? r : undefined;
  }, 'both consumers reported down');
  expect(down.status).toBe(503);
  expect(down.checks).toMatchObject({
    nats: 'ok',
    'consumer orders-tickets': expect.stringMatching(/^failing: down since \S+ \(\d+ failures in a row\): /),
    'consumer orders-payments': expect.stringMatching(/^failing: down since \S+ \(\d+ failures in a row\): /),
  });

  // The stream back, as a process of the service makes it at start-up.
  const bus = await connectEventBus(system.nats.url, STREAM, 'orders-test', pino({ level: 'silent' }));
  await bus.close();

  await eventually(async () => ((await readyz()).status === 200 ? true : undefined), 'ready again');
  await ticketFlows();
});
