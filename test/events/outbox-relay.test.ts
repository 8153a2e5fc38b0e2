/**
 * The outbox relay on a real nats-server: a row that NATS refuses is set aside and the rows
 * after it still flow (invariant 8); a relay killed between NATS's ack and its own mark does not
 * publish again once JetStream's duplicate window has passed (invariant 4); and the bus's
 * reconnection wakes a relay that is backing off.
 */
import pino from 'pino';
import { connect, nanos } from 'nats';
import { connectEventBus, publishEvent, type EventBus } from '../../src/events/jetstream';
import { OutboxRelay, startOutboxRelay } from '../../src/events/outbox-relay';
import { ALL_SUBJECTS } from '../../src/orders/catalogue';
import type { NewOrder } from '../../src/orders/order';
import type { Store } from '../../src/store';
import { eventually } from '../../scripts/lib/eventually';
import { sqliteStore, type TestDatabase } from '../support/database';
import { counterValue } from '../support/metrics';
import { CoreNatsPeer, startTestNats, type Recorder, type TestNats } from '../support/nats';
import { newId, seedOrder } from '../support/orders';

const logger = pino({ level: 'silent' });
const STREAM = 'ticketing';
let nats: TestNats;
let db: TestDatabase;
let store: Store;
let bus: EventBus;
let peer: CoreNatsPeer;
let recorder: Recorder;
const relays: OutboxRelay[] = [];

beforeAll(async () => {
  nats = await startTestNats();
  // The stream as the service makes it, except that JetStream forgets msg ids after 1 s instead of
  // 2 minutes, so that a test can outlive the window, and that it stores messages up to 64 kB.
  const nc = await connect({ servers: nats.url });
  await (
    await nc.jetstreamManager()
  ).streams.add({
    name: STREAM,
    subjects: [...ALL_SUBJECTS],
    duplicate_window: nanos(1000),
    max_msg_size: 64 * 1024,
    allow_direct: true,
  });
  await nc.close();
  db = await sqliteStore();
  store = db.store;
  bus = await connectEventBus(nats.url, STREAM, 'orders-test', logger);
  peer = await CoreNatsPeer.connect(nats.url);
  recorder = peer.record(['order:created', 'expiration:complete']);
});

// Each test has its own relay: one left running would publish the next test's rows for it.
afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  recorder?.stop();
  await peer?.close();
  await bus?.close();
  await db?.cleanup();
  await nats?.stop();
});

/** An outbox row as any version of the service may have written it, bypassing today's checks. */
const writeRow = (msgId: string, data: Record<string, unknown>) =>
  store.db
    .insertInto('outbox')
    .values({
      msg_id: msgId,
      subject: 'expiration:complete',
      data: JSON.stringify(data),
      created_at: new Date().toISOString(),
    })
    .execute();

test('when NATS refuses an outbox row (a header it cannot carry, a payload too large), then the row is set aside, counted, and the rows after it are published', async () => {
  const tag = newId();
  const [first, badHeader, tooBigForNats, tooBigForStream, last] = [1, 2, 3, 4, 5].map((n) => `${tag}-${n}`);
  const setAsideBefore = await counterValue('orders_outbox_set_aside_total');
  await writeRow(`expiration:complete:${first}`, { orderId: first });
  await writeRow(`expiration:complete:${badHeader}\r\nNats-Expected-Stream: other`, { orderId: badHeader });
  await writeRow(`expiration:complete:${tooBigForNats}`, { orderId: tooBigForNats, pad: 'x'.repeat(1_100_000) });
  await writeRow(`expiration:complete:${tooBigForStream}`, { orderId: tooBigForStream, pad: 'x'.repeat(100_000) });
  await writeRow(`expiration:complete:${last}`, { orderId: last });

  relays.push(startOutboxRelay(bus, store.outbox, logger, { pollMs: 50 }));

  await recorder.waitFor('expiration:complete', (d) => d.orderId === last);
  const seen = recorder.messages.map((m) => m.data.orderId);
  expect(seen.indexOf(first)).toBeLessThan(seen.indexOf(last));
  expect(seen).not.toContain(badHeader);
  expect(seen).not.toContain(tooBigForNats);
  // The subscriber may see the last event before the relay has its ack and marks it.
  const rows = await eventually(async () => {
    const all = await store.db
      .selectFrom('outbox')
      .selectAll()
      .where('data', 'like', `%${tag}%`)
      .orderBy('id')
      .execute();
    return all.every((r) => r.published_at || r.failed_at) ? all : undefined;
  }, 'every row published or set aside');
  expect(rows.map((r) => [r.published_at !== null, r.failed_at !== null])).toEqual([
    [true, false],
    [false, true],
    [false, true],
    [false, true],
    [true, false],
  ]);
  expect(rows.map((r) => r.failure)).toEqual([
    null,
    expect.stringContaining('BAD_HEADER'),
    expect.stringContaining('MAX_PAYLOAD_EXCEEDED'),
    expect.stringContaining('message size exceeds maximum allowed'),
    null,
  ]);
  expect((await counterValue('orders_outbox_set_aside_total')) - setAsideBefore).toBe(3);
  expect(await store.outbox.pending(100)).toEqual([]);
});

test('when the relay is killed after NATS acked some events but before it marked them, and restarts after the duplicate window, then each event is published once', async () => {
  const orders = [];
  for (let i = 0; i < 5; i++) orders.push(await seedOrder(store, Date.now()));
  let acked = 0;
  const killed = new Promise<never>(() => {}); // the process dies here: nothing after this runs
  const dying = new OutboxRelay(
    store.outbox,
    async (event) => {
      if (acked === 3) return killed;
      await publishEvent(bus, event);
      acked += 1;
    },
    logger,
    // Its claim on the rows it leaves unmarked expires within the duplicate window's wait below.
    { pollMs: 50, claimMs: 1000 },
  );
  dying.start();
  await eventually(async () => (acked === 3 ? true : undefined), 'three events acked before the kill');

  // JetStream forgets msg ids after its window: once it forgets a probe published after the
  // three events, it has forgotten theirs too, and only the outbox can keep them from coming again.
  const probe = { subject: 'expiration:complete' as const, msgId: `probe:${newId()}`, data: { orderId: 'probe' } };
  await publishEvent(bus, probe);
  await eventually(
    async () => ((await publishEvent(bus, probe)).duplicate ? undefined : true),
    "JetStream's duplicate window to pass",
  );

  relays.push(startOutboxRelay(bus, store.outbox, logger, { pollMs: 50 }));
  const lastOrder = orders[orders.length - 1]!;
  await recorder.waitFor('order:created', (d) => d.id === lastOrder.orderId);
  await peer.nc.flush(); // anything published before the last one has arrived too
  expect(orders.map((o) => recorder.count('order:created', (d) => d.id === o.orderId))).toEqual([1, 1, 1, 1, 1]);
});

test('when NATS comes back, then a relay that is backing off publishes at once, not at the end of its back-off', async () => {
  // A back-off of an hour: only the reconnection can explain a publish before the test times out.
  const hour = 3_600_000;
  const failuresBefore = await counterValue('orders_outbox_publish_failures_total');
  relays.push(startOutboxRelay(bus, store.outbox, logger, { pollMs: 50, backoffMs: { first: hour, max: hour } }));
  await nats.pause();
  const order = await seedOrder(store, Date.now());
  await eventually(
    async () => ((await counterValue('orders_outbox_publish_failures_total')) > failuresBefore ? true : undefined),
    'the relay to fail while NATS is down, and back off for an hour',
    60_000,
  );
  await nats.resume();

  const msgId = `order:created:${order.orderId}`;
  await eventually(async () => {
    const row = await store.db.selectFrom('outbox').selectAll().where('msg_id', '=', msgId).executeTakeFirst();
    return row?.published_at ? row : undefined;
  }, 'order:created to be published after the reconnection');
  const stored = await bus.jsm.streams.getMessage(STREAM, { last_by_subj: 'order:created' });
  expect(stored.json<{ id: string }>().id).toBe(order.orderId);
  // The core peer reconnects too (a flush fails until it has), else closing it would leave it retrying.
  await eventually(() => peer.nc.flush().then(() => true), 'the core NATS peer to reconnect');
});

test('when the database fails to mark published rows, then the relay backs off and publishes them again, none lost', async () => {
  const orders: NewOrder[] = [];
  for (let i = 0; i < 3; i++) orders.push(await seedOrder(store, Date.now()));
  const failuresBefore = await counterValue('orders_outbox_publish_failures_total');
  let failNextMark = true;
  const outbox = Object.assign(Object.create(store.outbox) as typeof store.outbox, {
    markPublished: (ids: number[], at: string) => {
      if (!failNextMark) return store.outbox.markPublished(ids, at);
      failNextMark = false;
      return Promise.reject(new Error('database unavailable'));
    },
  });
  relays.push(new OutboxRelay(outbox, (e) => publishEvent(bus, e), logger, { pollMs: 50 }));
  relays[0]!.start();
  await eventually(async () => {
    const rows = await store.db
      .selectFrom('outbox')
      .select('published_at')
      .where(
        'msg_id',
        'in',
        orders.map((o) => `order:created:${o.orderId}`),
      )
      .execute();
    return rows.every((r) => r.published_at) ? true : undefined;
  }, 'every row marked after the failed write');
  expect(await counterValue('orders_outbox_publish_failures_total')).toBeGreaterThan(failuresBefore);
});
