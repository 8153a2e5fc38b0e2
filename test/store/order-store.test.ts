/**
 * The order store on both real engines (SQLite and PostgreSQL): the database itself keeps
 * invariants 2-4, whatever order concurrent writers arrive in.
 */
import { sql } from 'kysely';
import { Client } from 'pg';
import { cancelByUser, expire, pay, place, rejectPayment, remindExpiring } from '../../src/orders/decisions';
import { TicketAlreadyReservedError } from '../../src/orders/errors';
import type { NewOrder, OrderEnding } from '../../src/orders/order';
import type { Store } from '../../src/store';
import { databases, dropPostgresConnections, postgresStore, type TestDatabase } from '../support/database';
import { newId, outboxSubjects, seedOrder } from '../support/orders';

describe.each(databases)('%s store', (_engine, openStore) => {
  let db: TestDatabase;
  let store: Store;
  /** Every order ending the store reported, in order: the hook behind `orders_ended_total`. */
  const endings: Array<[OrderEnding, string]> = [];
  const endingsOf = (orderId: string) => endings.filter(([, id]) => id === orderId).map(([ending]) => ending);

  beforeAll(async () => {
    db = await openStore({ orderEnded: (ending, orderId) => endings.push([ending, orderId]) });
    store = db.store;
  });
  afterAll(() => db?.cleanup());

  const payment = (orderId: string) => ({ id: newId(), orderId, stripeId: `ch_${newId()}` });
  /** A new order of another user for the same ticket. */
  const anotherOrderFor = (order: NewOrder): NewOrder => ({
    ...order,
    orderId: newId(),
    userId: newId(),
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
  });

  describe('ticket copy', () => {
    test('when ticket:created comes twice, then the first one is kept', async () => {
      const id = newId();
      await store.tickets.upsert({ id, title: 'a', price: 1, version: 0 });
      await store.tickets.upsert({ id, title: 'b', price: 2, version: 0 });
      expect(await store.tickets.find(id)).toEqual({ id, title: 'a', price: 1, version: 0 });
    });

    test('when updates arrive out of order, then only the next version applies and the early one waits', async () => {
      const id = newId();
      await store.tickets.upsert({ id, title: 'v0', price: 1, version: 0 });
      expect(await store.tickets.applyUpdate({ id, title: 'v2', price: 3, version: 2 })).toBe('out-of-order');
      expect(await store.tickets.applyUpdate({ id, title: 'v1', price: 2, version: 1 })).toBe('applied');
      expect(await store.tickets.applyUpdate({ id, title: 'v1', price: 2, version: 1 })).toBe('already-applied');
      expect(await store.tickets.applyUpdate({ id, title: 'v2', price: 3, version: 2 })).toBe('applied');
      expect(await store.tickets.find(id)).toEqual({ id, title: 'v2', price: 3, version: 2 });
      expect(await store.tickets.applyUpdate({ id: newId(), title: 'x', price: 1, version: 1 })).toBe('unknown-ticket');
    });
  });

  describe('one order that reserves a ticket: active or sold (invariant 3)', () => {
    test('when a ticket is held by an active order, then the lookup says reserved; once cancelled, free', async () => {
      const order = await seedOrder(store, Date.now());
      expect(await store.tickets.findForOrder(order.ticket.id, order.userId)).toEqual({
        ticket: { ...order.ticket, version: 0 },
        reserved: true,
        holds: { count: 1, earliestExpiry: order.expiresAt },
      });
      await store.orders.apply(cancelByUser(order.orderId));
      expect(await store.tickets.findForOrder(order.ticket.id, order.userId)).toEqual({
        ticket: { ...order.ticket, version: 0 },
        reserved: false,
        holds: { count: 0 },
      });
      expect(await store.tickets.findForOrder(newId(), order.userId)).toBeUndefined();
    });

    test('when ten orders for one ticket are inserted concurrently, then the database accepts exactly one', async () => {
      const first = await seedOrder(store, Date.now());
      await store.orders.apply(cancelByUser(first.orderId)); // the ticket is free again
      const attempts = Array.from({ length: 10 }, () =>
        store.orders.record(place(anotherOrderFor(first), new Date().toISOString(), 0)),
      );
      const results = await Promise.allSettled(attempts);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(refused).toHaveLength(9);
      refused.forEach((r) => expect(r.reason).toBeInstanceOf(TicketAlreadyReservedError));
    });

    test('when the ticket was paid for, then the lookup says reserved and ten concurrent orders for it are all refused', async () => {
      const sold = await seedOrder(store, Date.now());
      await store.orders.apply(pay(payment(sold.orderId)));
      expect(await store.tickets.findForOrder(sold.ticket.id, newId())).toMatchObject({ reserved: true });
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () =>
          store.orders.record(place(anotherOrderFor(sold), new Date().toISOString(), 0)),
        ),
      );
      results.forEach((r) =>
        expect(r).toMatchObject({ status: 'rejected', reason: expect.any(TicketAlreadyReservedError) }),
      );
      expect(await store.orders.find(sold.orderId)).toMatchObject({ status: 'complete', version: 1 });
    });

    test('when a user has bought tickets, then the hold limit counts only the orders still waiting for payment', async () => {
      const sold = await seedOrder(store, Date.now());
      await store.orders.apply(pay(payment(sold.orderId)));
      const holds = async () => (await store.tickets.findForOrder(sold.ticket.id, sold.userId))?.holds;
      expect(await holds()).toEqual({ count: 0 });
      const next = await seedOrder(store, Date.now());
      const held = { ...anotherOrderFor(next), userId: sold.userId };
      await store.orders.apply(cancelByUser(next.orderId)); // its ticket is free for this user
      await store.orders.record(place(held, new Date().toISOString(), 0, 1)); // a limit of one: the sold one does not count
      expect(await holds()).toEqual({ count: 1, earliestExpiry: held.expiresAt });
    });
  });

  describe('endings (invariants 2 and 4)', () => {
    test('when expiry and payment race, then the order ends exactly one way and a losing payment is refused', async () => {
      for (let i = 0; i < 10; i++) {
        const order = await seedOrder(store, Date.now());
        const paid = payment(order.orderId);
        const [, result] = await Promise.all(
          [store.orders.apply(expire(order, new Date().toISOString())), store.orders.apply(pay(paid))].map((p) =>
            p.catch((e: Error) => e),
          ),
        );
        const final = await store.orders.find(order.orderId);
        expect(final?.version).toBe(1);
        expect(endingsOf(order.orderId)).toEqual([final?.status === 'complete' ? 'paid' : 'expired']);
        const events = await outboxSubjects(store, order.orderId);
        if (final?.status === 'complete') {
          expect(events).toEqual(['order:created']);
        } else {
          expect(final?.status).toBe('cancelled');
          expect(events.filter((e) => e === 'order:cancelled')).toHaveLength(1);
          // the payment either lost the race (refused) or failed on a concurrent change and will be retried
          if (!(result instanceof Error)) expect(events).toContain('payment:rejected');
        }
      }
    });

    test('when an expiry runs twice (a retried activity), then the events are written once', async () => {
      const order = await seedOrder(store, Date.now());
      await store.orders.apply(expire(order, new Date().toISOString()));
      await store.orders.apply(expire(order, new Date().toISOString()));
      expect(await outboxSubjects(store, order.orderId)).toEqual([
        'order:created',
        'expiration:complete',
        'order:cancelled',
      ]);
      expect(await store.orders.find(order.orderId)).toMatchObject({ status: 'cancelled', version: 1 });
      expect(endingsOf(order.orderId)).toEqual(['expired']);
    });

    test('when a completed order gets its own payment again, then nothing changes; another payment is refused once', async () => {
      const order = await seedOrder(store, Date.now());
      const paid = payment(order.orderId);
      const other = payment(order.orderId);
      const completed = { status: 'complete', ending: 'paid', paymentId: paid.id };
      expect(await store.orders.apply(pay(paid))).toEqual({ accepted: true, ...completed });
      expect(await store.orders.apply(pay(paid))).toEqual({ accepted: true, ...completed });
      expect(await store.orders.apply(pay(other))).toEqual({ accepted: false, ...completed });
      expect(await store.orders.apply(pay(other))).toEqual({ accepted: false, ...completed });
      expect(await outboxSubjects(store, order.orderId)).toEqual(['order:created', 'payment:rejected']);
      expect(await store.orders.find(order.orderId)).toMatchObject({ status: 'complete', version: 1 });
      expect(endingsOf(order.orderId)).toEqual(['paid']);
    });

    test('when a cancelled order is expired or paid, then it stays cancelled and the payment is refused (invariant 5)', async () => {
      const order = await seedOrder(store, Date.now());
      await store.orders.apply(cancelByUser(order.orderId));
      const cancelled = { status: 'cancelled', ending: 'cancelled-by-user' };
      expect(await store.orders.apply(expire(order, new Date().toISOString()))).toEqual(cancelled);
      expect(await store.orders.apply(pay(payment(order.orderId)))).toEqual({ accepted: false, ...cancelled });
      expect(await outboxSubjects(store, order.orderId)).toEqual([
        'order:created',
        'order:cancelled',
        'payment:rejected',
      ]);
      expect(await store.orders.find(order.orderId)).toMatchObject({ status: 'cancelled', version: 1 });
      expect(endingsOf(order.orderId)).toEqual(['cancelled-by-user']);
    });

    test('when a refused payment comes again after its outbox row was pruned, then it is not refused twice: a payment is decided once, ever', async () => {
      const order = await seedOrder(store, Date.now());
      await store.orders.apply(cancelByUser(order.orderId));
      const late = payment(order.orderId);
      expect(await store.orders.apply(pay(late, new Date().toISOString()))).toMatchObject({ accepted: false });
      await store.db.deleteFrom('outbox').where('msg_id', '=', `payment:rejected:${late.id}`).execute(); // a day later
      // The stream replayed to a recreated consumer, and the workflow's own late-payment refusal:
      expect(await store.orders.apply(pay(late, new Date().toISOString()))).toMatchObject({ accepted: false });
      expect(await store.orders.apply(rejectPayment(late, 'late'))).toEqual({ rejected: true });
      expect(await outboxSubjects(store, late.id)).toEqual([]);
    });

    test('when a payment names an unknown order, then it is refused', async () => {
      const paid = payment(newId());
      expect(await store.orders.apply(pay(paid))).toEqual({ accepted: false, status: 'cancelled' });
      expect(await outboxSubjects(store, paid.id)).toEqual(['payment:rejected']);
    });
  });

  describe('outbox', () => {
    test('when events are marked published, then they are no longer pending', async () => {
      const order = await seedOrder(store, Date.now());
      const pending = (await store.outbox.pending(1000)).filter((e) => JSON.stringify(e.data).includes(order.orderId));
      expect(pending.map((e) => e.msgId)).toEqual([`order:created:${order.orderId}`]);
      await store.outbox.markPublished(
        pending.map((e) => e.id),
        new Date().toISOString(),
      );
      expect(await outboxSubjects(store, order.orderId)).toEqual([]);
    });
  });
});

describe('PostgreSQL store when the server drops its connections', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await postgresStore();
  });
  afterAll(() => db?.cleanup());

  test('then the process carries on and the next query opens a fresh connection', async () => {
    const ticket = { id: newId(), title: 'before', price: 1, version: 0 };
    await Promise.all([
      db.store.tickets.upsert(ticket),
      db.store.tickets.find(newId()),
      db.store.tickets.find(newId()),
    ]);

    await dropPostgresConnections(db.config);

    expect(await db.store.tickets.find(ticket.id)).toEqual(ticket);
  });

  test('when a connection drops while a transaction holds it, then that work fails and the process carries on', async () => {
    const ticket = { id: newId(), title: 'held', price: 1, version: 0 };
    const held = db.store.db.transaction().execute(async (trx) => {
      await trx.insertInto('tickets').values(ticket).execute();
      await dropPostgresConnections(db.config); // the server ends the session between two queries
      await trx.selectFrom('tickets').selectAll().execute();
    });
    await expect(held).rejects.toThrow(); // not an unheard 'error' event on the client, which would crash
    expect(await db.store.tickets.find(ticket.id)).toBeUndefined(); // rolled back with its session
  });
});

describe('PostgreSQL store when a reminder is decided while an extension commits', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await postgresStore();
  });
  afterAll(() => db?.cleanup());

  /** Resolves once a session of the test database waits for a lock, or once `stop()` says to give up. */
  function lockWaited(): { waited: Promise<void>; stop(): void } {
    let stopped = false;
    const waited = (async () => {
      while (!stopped) {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`.execute(db.store.db);
        if (rows[0]!.n > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    return { waited, stop: () => (stopped = true) };
  }

  test('when the extension has moved the deadline but not committed yet, then the reminder waits for it and publishes nothing for the old deadline', async () => {
    if (db.config.kind !== 'postgres') throw new Error('expected PostgreSQL');
    const now = Date.now();
    const order = await seedOrder(db.store, now);
    const moved = new Date(Date.parse(order.expiresAt) + 300_000).toISOString();
    const extension = new Client({ connectionString: db.config.url });
    await extension.connect();
    try {
      // The extension's transaction as the store writes it (extendHold: deadline moved, version + 1), still open.
      await extension.query('begin');
      await extension.query(
        'update orders set expires_at = $1, version = version + 1, extensions = extensions + 1 where id = $2',
        [moved, order.orderId],
      );
      const reminding = db.store.orders.apply(
        remindExpiring(order.orderId, order.expiresAt, new Date(now).toISOString()),
      );
      // Without a lock the reminder decides at once on the row as it was; with it, it waits for the extension.
      const lock = lockWaited();
      const first = await Promise.race([reminding.then(() => 'decided'), lock.waited.then(() => 'waiting')]);
      lock.stop();
      await lock.waited;
      await extension.query('commit');

      expect(await reminding).toEqual({ reminded: false });
      expect(first).toBe('waiting');
      expect(await outboxSubjects(db.store, order.orderId)).toEqual(['order:created']);
      expect(await db.store.orders.find(order.orderId)).toMatchObject({ expiresAt: moved, version: 1 });
    } finally {
      await extension.end();
    }
  });
});
