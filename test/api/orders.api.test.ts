/**
 * The REST contract, in-process on a free port, with real JWTs, on SQLite and on PostgreSQL.
 * Temporal is behind the OrderWorkflows interface here (a recording fake); the end-to-end
 * tests run the same routes against the real dev server.
 */
import jwt from 'jsonwebtoken';
import { sql } from 'kysely';
import pino from 'pino';
import { pay } from '../../src/orders/decisions';
import { RetryLaterError } from '../../src/orders/errors';
import type { OrderWorkflows } from '../../src/orders/ports';
import { createStore, type Store } from '../../src/store';
import { openDatabase } from '../../src/store/database';
import type { NewOrder } from '../../src/orders/order';
import { listen, type Requester } from '../support/api';
import { sessionCookieForUser, TEST_JWT_KEY, tokenFor } from '../support/auth';
import { databases, postgresStore, type TestDatabase } from '../support/database';
import { startTcpProxy, type TcpProxy } from '../../scripts/lib/tcp-proxy';
import { capturingLogger } from '../support/logs';
import { newId, outboxSubjects } from '../support/orders';
import { appOver, orderServiceOver } from '../support/service';

class RecordingWorkflows implements OrderWorkflows {
  started: NewOrder[] = [];
  /** The orders whose workflow was ended because the order could not be recorded, and why. */
  discarded: Array<{ orderId: string; reason: string }> = [];
  cancelled: string[] = [];
  extended: string[] = [];
  failStart = false;
  startDelayMs = 0;
  async start(input: NewOrder) {
    // what the Temporal implementation (temporal/order-workflows.ts) throws when the server cannot be reached
    if (this.failStart) throw new RetryLaterError("Could not start the order's workflow: Temporal is unavailable");
    await new Promise((r) => setTimeout(r, this.startDelayMs));
    this.started.push(input);
  }
  async discard(orderId: string, reason: string) {
    this.discarded.push({ orderId, reason });
  }
  async notifyCancelled(orderId: string) {
    this.cancelled.push(orderId);
  }
  async extendHold(orderId: string) {
    this.extended.push(orderId);
  }
  async signalPayment() {
    return true;
  }
}

const serviceOver = (store: Store, workflows: OrderWorkflows, logger: pino.Logger) =>
  orderServiceOver(store, workflows, logger);

describe.each(databases)('the REST API on %s', (_engine, openStore) => {
  let db: TestDatabase;
  let store: Store;
  let workflows: RecordingWorkflows;
  let request: Requester;
  let close: () => Promise<void>;

  const alice = newId();
  const bob = newId();
  const as = (userId: string) => ({ cookie: sessionCookieForUser(userId) });

  beforeAll(async () => {
    db = await openStore();
    store = db.store;
    workflows = new RecordingWorkflows();
    const logger = pino({ level: 'silent' });
    const orders = serviceOver(store, workflows, logger);
    ({ request, close } = await listen(appOver(store, orders, logger)));
  });

  afterAll(async () => {
    await close?.();
    await db?.cleanup();
  });

  beforeEach(() => {
    workflows.failStart = false;
    workflows.startDelayMs = 0;
  });

  async function newTicket(title = 'concert', price = 10) {
    const ticket = { id: newId(), title, price, version: 0 };
    await store.tickets.upsert(ticket);
    return ticket;
  }

  async function placeOrder(userId = alice) {
    const ticket = await newTicket();
    const res = await request('POST', '/api/orders', { headers: as(userId), body: { ticketId: ticket.id } });
    expect(res.status).toBe(201);
    return res.body as { id: string; ticket: { id: string } };
  }

  describe('authentication', () => {
    const notAuthorized = { errors: [{ message: 'Not authorized' }] };

    test('when no token is sent, then every route answers 401 in the error shape', async () => {
      for (const [method, path] of [
        ['POST', '/api/orders'],
        ['GET', '/api/orders'],
        ['GET', `/api/orders/${newId()}`],
        ['DELETE', `/api/orders/${newId()}`],
      ] as const) {
        expect(await request(method, path, { body: method === 'POST' ? { ticketId: 'x' } : undefined })).toEqual({
          status: 401,
          body: notAuthorized,
        });
      }
    });

    test.each([
      ['signed with another key', () => tokenFor(alice, 'another-key')],
      ['expired', () => jwt.sign({ id: alice, exp: Math.floor(Date.now() / 1000) - 60 }, TEST_JWT_KEY)],
      ['signed with HS512', () => jwt.sign({ id: alice }, TEST_JWT_KEY, { algorithm: 'HS512' })],
      ['unsigned (alg none)', () => jwt.sign({ id: alice }, '', { algorithm: 'none' })],
      ['without a user id', () => jwt.sign({ email: 'a@b.c' }, TEST_JWT_KEY)],
      ['not a JWT at all', () => 'garbage'],
    ])('when the token is %s, then 401', async (_name, token) => {
      expect(await request('GET', '/api/orders', { headers: { authorization: `Bearer ${token()}` } })).toEqual({
        status: 401,
        body: notAuthorized,
      });
    });

    test('when the session cookie is not base64 JSON, then 401', async () => {
      const res = await request('GET', '/api/orders', { headers: { cookie: 'session=%%%not-base64' } });
      expect(res).toEqual({ status: 401, body: notAuthorized });
    });

    test('when the token has no exp (as the auth service signs it), then it is accepted by cookie, legacy cookie and Bearer', async () => {
      for (const headers of [
        { cookie: sessionCookieForUser(alice) } as Record<string, string>,
        { cookie: sessionCookieForUser(alice, 'express:sess') },
        { authorization: `Bearer ${tokenFor(alice)}` },
      ]) {
        expect((await request('GET', '/api/orders', { headers })).status).toBe(200);
      }
    });

    test('when the token has an exp in the future, then it is accepted', async () => {
      const token = jwt.sign({ id: alice }, TEST_JWT_KEY, { expiresIn: '1h' });
      expect((await request('GET', '/api/orders', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    });
  });

  describe('POST /api/orders', () => {
    test('when the ticket is free, then 201 with exactly the contract shape, a workflow started and order:created queued', async () => {
      const ticket = await newTicket('concert', 10);
      const before = Date.now();

      const res = await request('POST', '/api/orders', { headers: as(alice), body: { ticketId: ticket.id } });

      expect(res.status).toBe(201);
      const order = res.body as Record<string, unknown>;
      expect(Object.keys(order).sort()).toEqual(['expiresAt', 'id', 'status', 'ticket', 'userId', 'version']);
      expect(order).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{24}$/),
        userId: alice,
        status: 'created',
        expiresAt: expect.any(String),
        version: 0,
        ticket: { id: ticket.id, title: 'concert', price: 10, version: 0 },
      });
      const expiresIn = Date.parse(order.expiresAt as string) - before;
      expect(expiresIn).toBeGreaterThanOrEqual(900_000 - 1000);
      expect(expiresIn).toBeLessThanOrEqual(900_000 + 60_000);
      expect(workflows.started.at(-1)).toMatchObject({ orderId: order.id, userId: alice, expiresAt: order.expiresAt });
      expect(await outboxSubjects(store, order.id as string)).toEqual(['order:created']);
    });

    test.each([
      ['no body', undefined],
      ['no ticketId', {}],
      ['an empty ticketId', { ticketId: '' }],
      ['a blank ticketId', { ticketId: '   ' }],
      ['a numeric ticketId', { ticketId: 42 }],
    ])('when the body has %s, then 400 with field ticketId', async (_name, body) => {
      const res = await request('POST', '/api/orders', { headers: as(alice), body });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [{ message: expect.any(String), field: 'ticketId' }] });
    });

    test('when the body is not JSON, then 400 in the error shape', async () => {
      const res = await request('POST', '/api/orders', { headers: as(alice), rawBody: '{"ticketId": ' });
      expect(res).toEqual({ status: 400, body: { errors: [{ message: 'Request body is not valid JSON' }] } });
    });

    test('when the body is too large, then 413 in the error shape', async () => {
      const res = await request('POST', '/api/orders', { headers: as(alice), body: { ticketId: 'x'.repeat(20_000) } });
      expect(res).toEqual({ status: 413, body: { errors: [{ message: 'Request body is too large' }] } });
    });

    test('when the ticket is unknown, then 404 and no workflow is started', async () => {
      const started = workflows.started.length;
      const res = await request('POST', '/api/orders', { headers: as(alice), body: { ticketId: newId() } });
      expect(res).toEqual({ status: 404, body: { errors: [{ message: 'Ticket not found' }] } });
      expect(workflows.started).toHaveLength(started);
    });

    test('when the ticket is already reserved, then 400 "Ticket is already reserved"', async () => {
      const first = await placeOrder();
      const res = await request('POST', '/api/orders', { headers: as(bob), body: { ticketId: first.ticket.id } });
      expect(res).toEqual({ status: 400, body: { errors: [{ message: 'Ticket is already reserved' }] } });
    });

    test('when the ticket was paid for, then another POST is 400 "Ticket is already reserved" and starts no workflow', async () => {
      const sold = await placeOrder();
      await store.orders.apply(pay({ id: newId(), orderId: sold.id, stripeId: 'ch_sold' }));
      const started = workflows.started.length;
      const res = await request('POST', '/api/orders', { headers: as(bob), body: { ticketId: sold.ticket.id } });
      expect(res).toEqual({ status: 400, body: { errors: [{ message: 'Ticket is already reserved' }] } });
      expect(workflows.started).toHaveLength(started);
      expect(await request('GET', `/api/orders/${sold.id}`, { headers: as(alice) })).toMatchObject({
        status: 200,
        body: { status: 'complete', version: 1 },
      });
    });

    test('when the previous order of the ticket was cancelled, then the ticket can be ordered again', async () => {
      const first = await placeOrder();
      expect((await request('DELETE', `/api/orders/${first.id}`, { headers: as(alice) })).status).toBe(204);
      const res = await request('POST', '/api/orders', { headers: as(bob), body: { ticketId: first.ticket.id } });
      expect(res.status).toBe(201);
    });

    test('when Temporal is unavailable, then 503 and no order is recorded', async () => {
      const ticket = await newTicket();
      workflows.failStart = true;
      const res = await request('POST', '/api/orders', { headers: as(alice), body: { ticketId: ticket.id } });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ errors: [{ message: expect.stringContaining('Temporal is unavailable') }] });
      expect(await store.tickets.findForOrder(ticket.id, newId())).toMatchObject({ reserved: false });
    });

    test('when eight requests race for one ticket, then the database lets exactly one through and the other workflows are discarded', async () => {
      const ticket = await newTicket();
      workflows.startDelayMs = 20; // every request passes the friendly pre-check before any inserts
      const discardedBefore = workflows.discarded.length;
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          request('POST', '/api/orders', { headers: as(newId()), body: { ticketId: ticket.id } }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 400, 400, 400, 400, 400, 400, 400]);
      const winner = (results.find((r) => r.status === 201)!.body as { id: string }).id;

      // The database holds one order for the ticket: the winner's, which holds it.
      const recorded = await store.db.selectFrom('orders').select('id').where('ticket_id', '=', ticket.id).execute();
      expect(recorded.map((o) => o.id)).toEqual([winner]);
      expect(await store.tickets.findForOrder(ticket.id, newId())).toMatchObject({ reserved: true });
      // Every other workflow started for the ticket was discarded, its order refused by the unique index.
      const losers = workflows.started
        .filter((o) => o.ticket.id === ticket.id && o.orderId !== winner)
        .map((o) => o.orderId);
      expect(losers.length).toBeGreaterThan(0); // some requests did lose at the database, not at the pre-check
      const discarded = workflows.discarded.slice(discardedBefore);
      expect(discarded.map((d) => d.orderId).sort()).toEqual([...losers].sort());
      expect(discarded.every((d) => d.reason === 'Ticket is already reserved')).toBe(true);
      for (const orderId of losers) expect(await store.orders.find(orderId)).toBeUndefined();
    });
  });

  describe('GET /api/orders', () => {
    test('when a user lists orders, then only their own come back, each with its ticket, oldest first', async () => {
      const user = newId();
      const first = await placeOrder(user);
      await placeOrder(bob);
      const second = await placeOrder(user);

      const res = await request('GET', '/api/orders', { headers: as(user) });

      expect(res.status).toBe(200);
      const orders = res.body as Array<{ id: string; userId: string; ticket: { title: string } }>;
      expect(orders.map((o) => o.id)).toEqual([first.id, second.id]);
      expect(orders.every((o) => o.userId === user && o.ticket.title === 'concert')).toBe(true);
    });
  });

  describe('GET /api/orders/:orderId', () => {
    test("when the order is the user's, then 200 with the order", async () => {
      const order = await placeOrder();
      const res = await request('GET', `/api/orders/${order.id}`, { headers: as(alice) });
      expect(res).toEqual({ status: 200, body: order });
    });

    test("when the order is another user's, then 401", async () => {
      const order = await placeOrder(alice);
      expect(await request('GET', `/api/orders/${order.id}`, { headers: as(bob) })).toEqual({
        status: 401,
        body: { errors: [{ message: 'Not authorized' }] },
      });
    });

    test('when the order is unknown, then 404 (any id format)', async () => {
      for (const id of [newId(), 'not-an-object-id']) {
        expect(await request('GET', `/api/orders/${id}`, { headers: as(alice) })).toEqual({
          status: 404,
          body: { errors: [{ message: 'Order not found' }] },
        });
      }
    });
  });

  describe('DELETE /api/orders/:orderId', () => {
    test('when the user cancels their order, then 204, the order is cancelled with version 1, order:cancelled is queued and the workflow told', async () => {
      const order = await placeOrder();
      const res = await request('DELETE', `/api/orders/${order.id}`, { headers: as(alice) });
      expect(res).toEqual({ status: 204, body: undefined });
      expect(await store.orders.find(order.id)).toMatchObject({ status: 'cancelled', version: 1 });
      expect(await outboxSubjects(store, order.id)).toEqual(['order:created', 'order:cancelled']);
      expect(workflows.cancelled).toContain(order.id);
    });

    test('when the order is already cancelled, then 204 again and no second event', async () => {
      const order = await placeOrder();
      await request('DELETE', `/api/orders/${order.id}`, { headers: as(alice) });
      expect((await request('DELETE', `/api/orders/${order.id}`, { headers: as(alice) })).status).toBe(204);
      expect(await outboxSubjects(store, order.id)).toEqual(['order:created', 'order:cancelled']);
    });

    test('when the order is complete, then 400 and it stays complete', async () => {
      const order = await placeOrder();
      await store.orders.apply(pay({ id: newId(), orderId: order.id, stripeId: 'ch_1' }));
      const res = await request('DELETE', `/api/orders/${order.id}`, { headers: as(alice) });
      expect(res).toEqual({ status: 400, body: { errors: [{ message: 'Cannot cancel an order that is complete' }] } });
      expect(await store.orders.find(order.id)).toMatchObject({ status: 'complete' });
    });

    test("when the order is another user's, then 401 and it is not cancelled", async () => {
      const order = await placeOrder(alice);
      expect((await request('DELETE', `/api/orders/${order.id}`, { headers: as(bob) })).status).toBe(401);
      expect(await store.orders.find(order.id)).toMatchObject({ status: 'created' });
    });

    test('when the order is unknown, then 404', async () => {
      expect((await request('DELETE', `/api/orders/${newId()}`, { headers: as(alice) })).status).toBe(404);
    });
  });

  test('when a route is unknown, then 404 in the error shape', async () => {
    for (const [method, path] of [
      ['GET', '/api/nothing-here'],
      ['PUT', '/api/orders'],
      ['GET', '/'],
    ] as const) {
      const res = await request(method, path, { headers: as(alice) });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ errors: [{ message: expect.stringContaining('Route not found') }] });
    }
  });
});

describe('the REST API when PostgreSQL drops away', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let store: Store;
  let workflows: RecordingWorkflows;
  let request: Requester;
  let close: () => Promise<void>;
  const as = { cookie: sessionCookieForUser(newId()) };

  beforeAll(async () => {
    db = await postgresStore();
    if (db.config.kind !== 'postgres') throw new Error('expected PostgreSQL');
    // the API reaches the database through a proxy the test can cut
    const url = new URL(db.config.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    url.port = String(proxy.port);
    const logger = pino({ level: 'silent' });
    const { db: proxied, kind } = openDatabase({ kind: 'postgres', url: url.toString() }, logger);
    store = createStore(proxied, kind);
    workflows = new RecordingWorkflows();
    const orders = serviceOver(store, workflows, logger);
    ({ request, close } = await listen(appOver(store, orders, logger)));
  });

  afterAll(async () => {
    await close?.();
    await store?.close();
    await proxy?.close();
    await db?.cleanup();
  });

  test('then requests get 503 in the error shape, nothing is started or lost, and the API recovers when it is back', async () => {
    const tickets = [newId(), newId()].map((id) => ({ id, title: 'concert', price: 10, version: 0 }));
    for (const ticket of tickets) await db.store.tickets.upsert(ticket);
    const order = (ticketId: string) => request('POST', '/api/orders', { headers: as, body: { ticketId } });
    expect((await order(tickets[0]!.id)).status).toBe(201); // the pool now holds a connection

    proxy.cut();
    for (const res of [await order(tickets[1]!.id), await request('GET', '/api/orders', { headers: as })]) {
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ errors: [{ message: 'A dependency is busy or unavailable; try again' }] });
    }
    expect(workflows.started).toHaveLength(1);

    proxy.restore();
    expect((await order(tickets[1]!.id)).status).toBe(201);
    const mine = await request('GET', '/api/orders', { headers: as });
    expect((mine.body as Array<{ ticket: { id: string } }>).map((o) => o.ticket.id).sort()).toEqual(
      tickets.map((t) => t.id).sort(),
    );
  });
});

describe('the REST API when PostgreSQL fails in its own words', () => {
  let db: TestDatabase;
  let request: Requester;
  let close: () => Promise<void>;
  const { logger, lines } = capturingLogger('warn');
  const as = { cookie: sessionCookieForUser(newId()) };
  // What postgres_fdw or a proxy in front of the database says: a host, a port, a user, a password.
  const detail =
    'could not connect to server "replica": connection to server at "10.20.30.40", port 5432 failed: ' +
    'FATAL:  password authentication failed for user "orders" (password=hunter2)';

  beforeAll(async () => {
    db = await postgresStore();
    // The database itself refuses every new order, with that message (a real PostgreSQL error, P0001).
    await sql
      .raw(
        `CREATE FUNCTION refuse_orders() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${detail.replace(/'/g, "''")}'; END $$;
         CREATE TRIGGER refuse_orders BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION refuse_orders();`,
      )
      .execute(db.store.db);
    ({ request, close } = await listen(
      appOver(db.store, serviceOver(db.store, new RecordingWorkflows(), logger), logger),
    ));
  });

  afterAll(async () => {
    await close?.();
    await db?.cleanup();
  });

  test('when a database error names hosts and credentials, then the 503 says none of it, and the log says it all', async () => {
    const ticket = { id: newId(), title: 'concert', price: 10, version: 0 };
    await db.store.tickets.upsert(ticket);

    const res = await request('POST', '/api/orders', { headers: as, body: { ticketId: ticket.id } });

    expect(res.status).toBe(503);
    expect(res.body).toEqual({ errors: [{ message: expect.stringContaining('may or may not have been recorded') }] });
    for (const secret of ['10.20.30.40', '5432', 'hunter2', 'password', 'replica', '"orders"']) {
      expect(JSON.stringify(res.body)).not.toContain(secret);
    }
    const [{ message }] = (res.body as { errors: [{ message: string }] }).errors;
    const logged = lines.find((line) => line.msg === message);
    expect(logged).toMatchObject({ level: 40, path: '/api/orders', err: { message: expect.stringContaining(detail) } });
  });
});
