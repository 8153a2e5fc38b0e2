/**
 * Issue 11, "Correct with replicas": every worker runs an outbox relay over the same database.
 * On both engines and a real nats-server, two relays publish each row once (counted by a core
 * NATS subscriber, which sees every publish, duplicates that JetStream drops included), each
 * order's events in the order they were written; a relay that dies holding a claim has its rows
 * taken over once the claim expires.
 */
import pino from 'pino';
import { connect, nanos, type NatsConnection, type Subscription } from 'nats';
import { connectEventBus, publishEvent, type EventBus } from '../../src/events/jetstream';
import { OutboxRelay } from '../../src/events/outbox-relay';
import { openStore, type Store } from '../../src/store';
import { createLogger } from '../../src/logger';
import { eventually } from '../../scripts/lib/eventually';
import { databases, type TestDatabase } from '../support/database';
import { startTestNats, type TestNats } from '../support/nats';
import { newId } from '../support/orders';

const logger = pino({ level: 'silent' });
const SUBJECTS = ['expiration:complete', 'order:cancelled'];
let nats: TestNats;
let busA: EventBus;
let busB: EventBus;
let publishes: Map<string, number>; // Nats-Msg-Id → publishes seen
let arrivals: string[]; // Nats-Msg-Id, in the order they arrived
let sub: Subscription;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startTestNats();
  nc = await connect({ servers: nats.url });
  // A duplicate window of 1 s: the count below is of publishes, which the stream would hide anyway.
  await (
    await nc.jetstreamManager()
  ).streams.add({ name: 'ticketing', subjects: SUBJECTS, duplicate_window: nanos(1000) });
  // Every publish reaches a core subscriber, whether JetStream keeps or drops it as a duplicate.
  publishes = new Map();
  arrivals = [];
  sub = nc.subscribe('>');
  void (async () => {
    for await (const m of sub) {
      const id = m.headers?.get('Nats-Msg-Id');
      if (!id || !SUBJECTS.includes(m.subject)) continue;
      publishes.set(id, (publishes.get(id) ?? 0) + 1);
      arrivals.push(id);
    }
  })();
  // Two worker processes: each its own NATS connection.
  busA = await connectEventBus(nats.url, 'ticketing', 'orders-worker-a', logger);
  busB = await connectEventBus(nats.url, 'ticketing', 'orders-worker-b', logger);
});

afterAll(async () => {
  sub?.unsubscribe();
  await nc?.close();
  await busA?.close();
  await busB?.close();
  await nats?.stop();
});

describe.each(databases)('%s outbox claims', (_engine, openTestStore) => {
  let db: TestDatabase;
  let storeA: Store;
  let storeB: Store;
  beforeAll(async () => {
    db = await openTestStore();
    storeA = db.store;
    // The second worker's own connections to the same database.
    storeB = await openStore(db.config, createLogger('test-store', { level: 'silent', format: 'json' }));
  });
  afterAll(async () => {
    await storeB?.close();
    await db?.cleanup();
  });

  /** `orders` orders, each an expiry's two events written in order by one transaction, 250 orders per write. */
  async function writeOrders(tag: string, orders: number, afterEachWrite: () => void = () => undefined) {
    const createdAt = new Date().toISOString();
    for (let i = 0; i < orders; i += 250) {
      const rows = Array.from({ length: Math.min(250, orders - i) }, (_, j) => `${tag}-${i + j}`).flatMap((id) => [
        {
          msg_id: `expiration:complete:${id}`,
          subject: 'expiration:complete',
          data: JSON.stringify({ orderId: id }),
          created_at: createdAt,
        },
        {
          msg_id: `order:cancelled:${id}`,
          subject: 'order:cancelled',
          data: JSON.stringify({ id, version: 1, ticket: { id: `t-${id}` } }),
          created_at: createdAt,
        },
      ]);
      await (i % 500 === 0 ? storeA : storeB).db.insertInto('outbox').values(rows).execute();
      afterEachWrite();
    }
  }

  const rowsOf = (tag: string) =>
    storeA.db.selectFrom('outbox').selectAll().where('msg_id', 'like', `%:${tag}-%`).orderBy('id').execute();

  const allPublished = (tag: string, count: number) =>
    eventually(
      async () => {
        const rows = await rowsOf(tag);
        return rows.length === count && rows.every((r) => r.published_at) ? rows : undefined;
      },
      `all ${count} rows published and marked`,
      90_000,
    );

  test('when two relays drain thousands of rows, then each row is published once, and each order expires before it is cancelled', async () => {
    const tag = newId();
    const orders = 1500;
    const published = { a: 0, b: 0 };
    const relayA = new OutboxRelay(storeA.outbox, (e) => ((published.a += 1), publishEvent(busA, e)), logger, {
      pollMs: 20,
    });
    const relayB = new OutboxRelay(storeB.outbox, (e) => ((published.b += 1), publishEvent(busB, e)), logger, {
      pollMs: 20,
    });
    relayA.start();
    relayB.start();
    try {
      // Written while both run, each write kicking both, as two workers' activities would.
      await writeOrders(tag, orders, () => {
        relayA.kick();
        relayB.kick();
      });
      await allPublished(tag, orders * 2);
    } finally {
      await Promise.all([relayA.stop(), relayB.stop()]);
    }
    const mine = (id: string) => id.includes(`:${tag}-`);
    await eventually(
      async () => ([...publishes.keys()].filter(mine).length === orders * 2 ? true : undefined),
      'the subscriber to have seen every event',
    );
    const counts = [...publishes.entries()].filter(([id]) => mine(id)).map(([, n]) => n);
    const histogram: Record<number, number> = {};
    for (const n of counts) histogram[n] = (histogram[n] ?? 0) + 1;
    console.log(
      `${_engine}: ${orders * 2} events; publishes per event → events: ${JSON.stringify(histogram)}; relay A published ${published.a}, relay B ${published.b}`,
    );
    expect(histogram).toEqual({ 1: orders * 2 });
    expect(published.a + published.b).toBe(orders * 2);

    const at = new Map(arrivals.filter(mine).map((id, i) => [id, i]));
    const outOfOrder = Array.from({ length: orders }, (_, i) => `${tag}-${i}`).filter(
      (id) => at.get(`expiration:complete:${id}`)! > at.get(`order:cancelled:${id}`)!,
    );
    expect(outOfOrder).toEqual([]);
  });

  test('when a relay claims rows and dies before publishing them, then another relay publishes them once its claim has expired, none lost', async () => {
    const tag = newId();
    const orders = 50; // 100 rows: one batch, all claimed by the relay that dies
    await writeOrders(tag, orders);
    const dead = new OutboxRelay(storeB.outbox, () => new Promise<never>(() => {}), logger, {
      pollMs: 20,
      claimMs: 2000,
      relayId: `dead-${tag}`,
    });
    dead.start(); // claims the rows, then hangs on its first publish: the process is gone
    const claim = await eventually(async () => {
      const rows = await rowsOf(tag);
      return rows.length === orders * 2 && rows.every((r) => r.claimed_by === `dead-${tag}`) ? rows : undefined;
    }, 'the dying relay to claim the rows');
    const deadUntil = claim[0]!.claimed_until!;

    const live = new OutboxRelay(storeA.outbox, (e) => publishEvent(busA, e), logger, { pollMs: 20 });
    live.start();
    let rows;
    try {
      rows = await allPublished(tag, orders * 2);
    } finally {
      await live.stop();
    }
    // Taken over, not published alongside: every row by the live relay, after the dead claim ran out.
    expect(rows.every((r) => r.claimed_by === live.relayId)).toBe(true);
    expect(rows.every((r) => r.published_at! >= deadUntil)).toBe(true);
    await eventually(
      async () =>
        [...publishes.keys()].filter((id) => id.includes(`:${tag}-`)).length === orders * 2 ? true : undefined,
      'the subscriber to have seen every event',
    );
    expect([...publishes.entries()].filter(([id]) => id.includes(`:${tag}-`)).every(([, n]) => n === 1)).toBe(true);
  });
});
