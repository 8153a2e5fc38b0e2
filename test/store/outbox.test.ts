/**
 * The outbox on both engines: published rows are pruned after the retention and nothing else
 * ever is; an entity id that no NATS header can carry still gives a valid, stable msg id.
 */
import pino from 'pino';
import { OutboxRelay } from '../../src/events/outbox-relay';
import { rejectPayment } from '../../src/orders/decisions';
import type { Store } from '../../src/store';
import { eventually } from '../../scripts/lib/eventually';
import { databases, type TestDatabase } from '../support/database';
import { newId } from '../support/orders';

const logger = pino({ level: 'silent' });
const HOUR = 3_600_000;
const hoursAgo = (h: number) => new Date(Date.now() - h * HOUR).toISOString();

describe.each(databases)('%s outbox', (_engine, openStore) => {
  let db: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    db = await openStore();
    store = db.store;
  });
  afterAll(() => db?.cleanup());

  /** Rows of one test (`tag` in their msg id), written as the relay would have left them. */
  let written = 0;
  async function writeRows(tag: string, count: number, at: { created: string; published?: string; failed?: string }) {
    for (let i = 0; i < count; i += 500) {
      const rows = Array.from({ length: Math.min(500, count - i) }, () => ({
        msg_id: `expiration:complete:${tag}-${(written += 1)}`,
        subject: 'expiration:complete',
        data: JSON.stringify({ orderId: `${tag}-${written}` }),
        created_at: at.created,
        published_at: at.published ?? null,
        ...(at.failed ? { failed_at: at.failed, failure: 'BAD_HEADER: test' } : {}),
      }));
      await store.db.insertInto('outbox').values(rows).execute();
    }
  }
  const rowsOf = (tag: string) =>
    store.db.selectFrom('outbox').selectAll().where('msg_id', 'like', `%${tag}%`).orderBy('id').execute();

  test('when published rows are older than the retention, then the relay deletes them, batch by batch, and keeps the rest', async () => {
    const tag = newId();
    await writeRows(tag, 1200, { created: hoursAgo(49), published: hoursAgo(48) });
    await writeRows(tag, 3, { created: hoursAgo(2), published: hoursAgo(1) });
    await writeRows(tag, 1, { created: hoursAgo(49) }); // still waiting: published now, so kept
    const relay = new OutboxRelay(store.outbox, () => Promise.resolve(), logger, {
      pollMs: 20,
      retentionMs: 24 * HOUR,
      pruneEveryMs: 20,
    });
    relay.start();
    try {
      const kept = await eventually(async () => {
        const rows = await rowsOf(tag);
        return rows.length === 4 ? rows : undefined;
      }, 'the published rows older than 24 h to be pruned');
      // The three published an hour ago, and the old one that was still waiting, published now.
      expect(kept.every((r) => r.published_at !== null && r.published_at > hoursAgo(24))).toBe(true);
    } finally {
      await relay.stop();
    }
  });

  test('when rows wait or were set aside, then pruning never deletes them, however old', async () => {
    const tag = newId();
    await writeRows(tag, 2, { created: hoursAgo(100) });
    await writeRows(tag, 2, { created: hoursAgo(100), failed: hoursAgo(99) });
    await writeRows(tag, 2, { created: hoursAgo(100), published: hoursAgo(99) });
    while ((await store.outbox.prunePublished(hoursAgo(24), 500)) > 0);
    const rows = await rowsOf(tag);
    expect(rows.map((r) => [r.published_at !== null, r.failed_at !== null])).toEqual([
      [false, false],
      [false, false],
      [false, true],
      [false, true],
    ]);
    expect((await store.outbox.pending(10_000)).filter((e) => e.msgId.includes(tag))).toHaveLength(2);
  });

  test('when an entity id holds CR/LF or is 600 kB long, then its msg id is a header-safe digest, the same each time', async () => {
    const orderId = newId();
    const normal = { id: newId(), orderId, stripeId: 'ch_1' };
    const hostile = [
      { id: `pay\r\nNats-Expected-Stream: other`, orderId, stripeId: 'ch_2' },
      { id: 'p'.repeat(600_000), orderId, stripeId: 'ch_3' },
    ];
    for (const payment of [normal, ...hostile, ...hostile]) await store.orders.apply(rejectPayment(payment, 'test'));
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
