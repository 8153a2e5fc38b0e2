/**
 * The outbox on both engines: an entity id that no NATS header can carry still gives a valid,
 * stable msg id.
 */
import { rejectPayment } from '../../src/orders/decisions';
import type { Store } from '../../src/store';
import { databases, type TestDatabase } from '../support/database';
import { newId } from '../support/orders';

describe.each(databases)('%s outbox', (_engine, openStore) => {
  let db: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    db = await openStore();
    store = db.store;
  });
  afterAll(() => db?.cleanup());

  test('when an entity id holds CR/LF or is 600 kB long, then its msg id is a header-safe digest, the same each time', async () => {
    const orderId = newId();
    const normal = { id: newId(), orderId, stripeId: 'ch_1' };
    const hostile = [
      { id: `pay\r\nNats-Expected-Stream: other`, orderId, stripeId: 'ch_2' },
      { id: 'p'.repeat(600_000), orderId, stripeId: 'ch_3' },
    ];
    for (const payment of [normal, ...hostile, ...hostile]) await store.orders.record(rejectPayment(payment, 'test'));
    const rows = await store.db
      .selectFrom('outbox')
      .select(['msg_id', 'data'])
      .where('data', 'like', `%${orderId}%`)
      .orderBy('id')
      .execute();
    // Cut short, so that a failure does not print 600 kB.
    expect(rows.map((r) => r.msg_id.slice(0, 100))).toEqual([
      `payment:rejected:${normal.id}`, // ids that a header can carry keep today's form (JetStream dedup)
      expect.stringMatching(/^payment:rejected:sha256:[0-9a-f]{64}$/),
      expect.stringMatching(/^payment:rejected:sha256:[0-9a-f]{64}$/),
    ]);
    expect(new Set(rows.map((r) => r.msg_id)).size).toBe(3);
    expect(rows.map((r) => (JSON.parse(r.data) as { stripeId: string }).stripeId)).toEqual(['ch_1', 'ch_2', 'ch_3']);
  });
});
