/**
 * Migration 0009 moves a database that lived under the old rule (only `created` and
 * `awaiting:payment` reserved a ticket) to the course's rule (a `complete` order keeps it), on both
 * engines. Such a database may already hold a ticket sold twice: the migration must not fail on it,
 * must keep those orders as they are, and from then on must refuse every new order on a sold ticket.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Migrator } from 'kysely';
import type { Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { place } from '../../src/orders/decisions';
import { TicketAlreadyReservedError } from '../../src/orders/errors';
import type { OrderStatus } from '../../src/orders/order';
import { createStore } from '../../src/store';
import { migrateToLatest, openDatabase } from '../../src/store/database';
import { migrationProvider } from '../../src/store/migrations';
import type { Db } from '../../src/store/schema';
import { emptyPostgresDatabase } from '../support/database';
import { newId } from '../support/orders';

type EmptyDatabase = () => Promise<{ config: Config['database']; drop(): Promise<void> | void }>;

const emptySqliteDatabase: EmptyDatabase = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-db-'));
  return Promise.resolve({
    config: { kind: 'sqlite', file: path.join(dir, 'orders.sqlite') },
    drop: () => fs.rmSync(dir, { recursive: true, force: true }),
  });
};

const engines: Array<[string, EmptyDatabase]> = [
  ['SQLite', emptySqliteDatabase],
  ['PostgreSQL', emptyPostgresDatabase],
];

describe.each(engines)('%s: migration 0009, a sold ticket stays sold', (_engine, emptyDatabase) => {
  test('when tickets were sold twice under the old rule, then it migrates, keeps those orders, and refuses new orders on sold tickets', async () => {
    const { config, drop } = await emptyDatabase();
    const { db, kind } = openDatabase(config, createLogger('test-migration', { level: 'silent', format: 'json' }));
    try {
      const migrator = new Migrator({ db, provider: migrationProvider(kind) });
      const before = await migrator.migrateTo('0008_outbox_claims');
      expect(before.error).toBeUndefined();

      // Under the old rule: a paid ticket ordered again (and paid again), and the cases that never conflicted.
      const soldThenHeld = await seed(db, ['complete', 'created']);
      const soldTwice = await seed(db, ['complete', 'complete']);
      const held = await seed(db, ['created']);
      const cancelledThenSold = await seed(db, ['cancelled', 'complete']);
      const cancelled = await seed(db, ['cancelled']);

      expect((await migrateToLatest(db, kind))[0]).toBe('0009_sold_ticket_stays_sold'); // and those after it

      const exempt = await db.selectFrom('orders').select('id').where('reservation_exempt', '=', 1).execute();
      expect(exempt.map((o) => o.id).sort()).toEqual([soldThenHeld.orderIds[1], soldTwice.orderIds[1]].sort());
      const statuses = await db.selectFrom('orders').select(['id', 'status']).execute();
      expect(statuses.find((o) => o.id === soldThenHeld.orderIds[1])?.status).toBe('created'); // kept as it was

      const store = createStore(db, kind);
      const orderFor = (ticketId: string) =>
        place(
          {
            orderId: newId(),
            userId: newId(),
            ticket: { id: ticketId, title: 'concert', price: 20 },
            expiresAt: new Date(Date.now() + 60_000).toISOString(),
          },
          new Date().toISOString(),
          0,
        );
      for (const ticket of [soldThenHeld, soldTwice, held, cancelledThenSold]) {
        expect(await store.tickets.findForOrder(ticket.ticketId, newId())).toMatchObject({ reserved: true });
        await expect(store.orders.record(orderFor(ticket.ticketId))).rejects.toBeInstanceOf(TicketAlreadyReservedError);
      }
      expect(await store.tickets.findForOrder(cancelled.ticketId, newId())).toMatchObject({ reserved: false });
      await expect(store.orders.record(orderFor(cancelled.ticketId))).resolves.toMatchObject({ status: 'created' });
    } finally {
      await db.destroy();
      await drop();
    }
  });
});

/** A ticket and its orders, written as the service wrote them before 0009, oldest first. */
async function seed(db: Db, statuses: OrderStatus[]): Promise<{ ticketId: string; orderIds: string[] }> {
  const ticketId = newId();
  await db.insertInto('tickets').values({ id: ticketId, title: 'concert', price: 20, version: 0 }).execute();
  const orderIds: string[] = [];
  for (const [i, status] of statuses.entries()) {
    const id = newId();
    orderIds.push(id);
    await db
      .insertInto('orders')
      .values({
        id,
        user_id: newId(),
        ticket_id: ticketId,
        status,
        expires_at: new Date(Date.now() + 60_000).toISOString(),
        version: status === 'created' ? 0 : 1,
        payment_id: status === 'complete' ? newId() : null,
        created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        ending: null,
      })
      .execute();
  }
  return { ticketId, orderIds };
}
