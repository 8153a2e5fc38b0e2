/**
 * Idempotent creation (`Idempotency-Key`) and the hold limit (`MAX_ACTIVE_ORDERS_PER_USER`), on
 * SQLite and on PostgreSQL, with the real Temporal dev server: order workflows start for real, on a
 * task queue without a worker, so they stay running and the test can see each one.
 * An API "killed" mid-request is an app instance whose store stops answering at that point (its
 * request never ends); the client's retry goes to a second instance on the same database, as it
 * would to another replica or to the restarted process.
 */
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { place } from '../../src/orders/decisions';
import { HoldLimitReachedError } from '../../src/orders/errors';
import type { NewOrder, Order } from '../../src/orders/order';
import type { OrderRepository } from '../../src/orders/ports';
import type { Store } from '../../src/store';
import { temporalOrderWorkflows } from '../../src/temporal/order-workflows';
import { discardSignal, orderWorkflowId } from '../../src/workflows/shared';
import { eventually } from '../../scripts/lib/eventually';
import { fullRequester, listen } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { databases, type TestDatabase } from '../support/database';
import { newId } from '../support/orders';
import { signalsOf } from '../support/workflow-history';
import { appOver, orderServiceOver } from '../support/service';

const logger = pino({ level: 'silent' });
const MAX_HOLDS = 3;
let temporal: Client;

beforeAll(async () => {
  temporal = new Client({ connection: await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS }) });
});
afterAll(async () => {
  await temporal?.connection.close();
});

/**
 * The store of a process that reaches its record and then stops there: `dies` (its store never
 * answers again, having recorded first when `after-record`), or `stalls` until woken (a long GC
 * pause, a stalled pool) and then records.
 */
function stoppingAtRecord(orders: OrderRepository, how: 'before-record' | 'after-record' | 'stalls') {
  let reach = () => undefined as void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  let wake = () => undefined as void;
  const woken = new Promise<void>((resolve) => (wake = resolve));
  const repository: OrderRepository = {
    find: (id) => orders.find(id),
    listByUser: (id) => orders.listByUser(id),
    apply: (command) => orders.apply(command),
    record: async (change, fence) => {
      if (how === 'after-record') await orders.record(change, fence);
      reach();
      if (how !== 'stalls') return new Promise<never>(() => undefined);
      await woken;
      return orders.record(change, fence);
    },
  };
  return { repository, reached, wake };
}

describe.each(databases)('POST /api/orders on %s', (_engine, openStore) => {
  let db: TestDatabase;
  let store: Store;
  const taskQueue = `orders-idempotency-${newId()}`; // no worker: workflows stay running
  const apps: { close(): Promise<void> }[] = [];

  /** An API instance over the database; `orders` replaces its repository (a dying process). */
  async function api(options: { orders?: OrderRepository; leaseMs?: number } = {}) {
    const service = orderServiceOver(
      { orders: options.orders ?? store.orders, tickets: store.tickets },
      temporalOrderWorkflows(temporal, taskQueue),
      logger,
      { maxActiveOrdersPerUser: MAX_HOLDS },
    );
    const idempotencyOptions = { leaseMs: options.leaseMs ?? 30_000 };
    const server = await listen(appOver(store, service, logger, { idempotencyOptions }));
    apps.push(server);
    return fullRequester(server.baseUrl);
  }

  const newTicket = async () => {
    const ticket = { id: newId(), title: 'concert', price: 10, version: 0 };
    await store.tickets.upsert(ticket);
    return ticket.id;
  };
  const newUser = () => sessionCookieForUser(newId());
  const post = (
    request: Awaited<ReturnType<typeof api>>,
    cookie: string,
    body: unknown,
    key?: string,
    signal?: AbortSignal,
  ) =>
    request('POST', '/api/orders', {
      headers: { cookie, ...(key ? { 'idempotency-key': key } : {}) },
      body,
      ...(signal ? { signal } : {}),
    });
  const ordersOf = async (request: Awaited<ReturnType<typeof api>>, cookie: string) =>
    (await request('GET', '/api/orders', { headers: { cookie } })).body as Order[];
  const workflowStatus = async (orderId: string) =>
    (await temporal.workflow.getHandle(orderWorkflowId(orderId)).describe()).status.name;
  /** The order id of the key's current plan. */
  const planOf = async (key: string) =>
    (await store.db.selectFrom('idempotency_keys').select('order_id').where('key', '=', key).executeTakeFirstOrThrow())
      .order_id;
  /** A client's retries of one request until it is no longer 409 (an earlier attempt's lease runs out first). */
  const retried = (request: () => Promise<Awaited<ReturnType<typeof post>>>) =>
    eventually(async () => {
      const reply = await request();
      return reply.status === 409 ? undefined : reply;
    }, 'the retry to be answered');

  beforeAll(async () => {
    db = await openStore();
    store = db.store;
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await db?.cleanup();
  });

  describe('with an Idempotency-Key', () => {
    test('when the same request is sent again, then it gets the first answer, status and body alike, and nothing new is created', async () => {
      const request = await api();
      const [cookie, ticketId, key] = [newUser(), await newTicket(), newId()];
      const first = await post(request, cookie, { ticketId }, key);
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const again = await post(request, cookie, { ticketId }, key);
      expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: first.body });
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await ordersOf(request, cookie)).toHaveLength(1);
    });

    test('when the same key comes with another body, then 422 in the error shape, and no second order', async () => {
      const request = await api();
      const [cookie, key] = [newUser(), newId()];
      expect((await post(request, cookie, { ticketId: await newTicket() }, key)).status).toBe(201);
      const other = await post(request, cookie, { ticketId: await newTicket() }, key);
      expect(other.status).toBe(422);
      expect(other.body).toEqual({
        errors: [
          {
            message: 'This Idempotency-Key was already used with another request body; use a new key for a new request',
          },
        ],
      });
      expect(await ordersOf(request, cookie)).toHaveLength(1);
    });

    test('when concurrent requests share one key, then one order is created and the others get its answer or a 409', async () => {
      const request = await api();
      const [cookie, ticketId, key] = [newUser(), await newTicket(), newId()];
      const replies = await Promise.all(Array.from({ length: 6 }, () => post(request, cookie, { ticketId }, key)));
      const created = replies.filter((r) => r.status === 201);
      expect(created.length).toBeGreaterThanOrEqual(1);
      for (const r of replies) expect([201, 409]).toContain(r.status);
      for (const r of created) expect(r.body).toEqual(created[0]!.body);
      for (const r of replies.filter((x) => x.status === 409)) {
        expect(r.headers.get('retry-after')).toBe('1');
        expect(r.body).toEqual({
          errors: [{ message: 'A request with this Idempotency-Key is still in progress; retry it shortly' }],
        });
      }
      expect(await ordersOf(request, cookie)).toHaveLength(1);
    });

    test("when another user sends the same key, then it is that user's own key", async () => {
      const request = await api();
      const key = newId();
      const [alice, bob] = [newUser(), newUser()];
      const a = await post(request, alice, { ticketId: await newTicket() }, key);
      const b = await post(request, bob, { ticketId: await newTicket() }, key);
      expect([a.status, b.status]).toEqual([201, 201]);
      expect((a.body as Order).id).not.toBe((b.body as Order).id);
    });

    test('when a refusal is final, then it is replayed; when the ticket was only unknown yet, then a retry creates the order', async () => {
      const request = await api();
      const [cookie, taken] = [newUser(), await newTicket()];
      expect((await post(request, newUser(), { ticketId: taken })).status).toBe(201);
      const key = newId();
      const refused = await post(request, cookie, { ticketId: taken }, key);
      expect(refused.status).toBe(400);
      const replayed = await post(request, cookie, { ticketId: taken }, key);
      expect({ status: replayed.status, body: replayed.body }).toEqual({ status: 400, body: refused.body });

      const later = newId();
      const unknownKey = newId();
      expect((await post(request, cookie, { ticketId: later }, unknownKey)).status).toBe(404);
      await store.tickets.upsert({ id: later, title: 'announced late', price: 5, version: 0 });
      expect((await post(request, cookie, { ticketId: later }, unknownKey)).status).toBe(201);
    });

    test('when the key is malformed, then 400 with the header as the field', async () => {
      const request = await api();
      const reply = await post(request, newUser(), { ticketId: await newTicket() }, 'x'.repeat(256));
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({
        errors: [{ field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters, such as a UUID' }],
      });
    });

    test.each(['before-record', 'after-record'] as const)(
      'when the API is killed between the workflow start and the answer (%s), then the retry gets the one order of the key',
      async (stopAt) => {
        const dying = stoppingAtRecord(store.orders, stopAt);
        const doomed = await api({ orders: dying.repository, leaseMs: 500 });
        const survivor = await api();
        const [cookie, ticketId, key] = [newUser(), await newTicket(), newId()];

        const lost = new AbortController();
        const firstTry = post(doomed, cookie, { ticketId }, key, lost.signal).catch(() => 'no answer');
        await dying.reached; // its workflow has started; the process is gone before it answers
        const firstPlan = await planOf(key);
        lost.abort();
        expect(await firstTry).toBe('no answer');

        const retry = await retried(() => post(survivor, cookie, { ticketId }, key));
        expect(retry.status).toBe(201);
        const order = retry.body as Order;
        expect(await ordersOf(survivor, cookie)).toEqual([order]);
        expect(await workflowStatus(order.id)).toBe('RUNNING');
        if (stopAt === 'after-record') {
          expect(order.id).toBe(firstPlan); // recorded, with its answer, before the process died
        } else {
          expect(order.id).not.toBe(firstPlan); // a plan of its own; the first one's workflow is told to go
          expect(await signalsOf(temporal, firstPlan)).toEqual([discardSignal.name]);
        }
        const again = await post(survivor, cookie, { ticketId }, key);
        expect({ status: again.status, body: again.body }).toEqual({ status: 201, body: order });
      },
    );

    describe('when an attempt stalls past its lease, a retry takes the key over and records, and then the stalled attempt wakes up', () => {
      /** The stalled attempt's reply and plan, and the retry's order, once the stalled attempt has woken and answered. */
      type Api = Awaited<ReturnType<typeof api>>;
      async function stallThenRetry(cookie: string, between?: (order: Order, survivor: Api) => Promise<void>) {
        const stalling = stoppingAtRecord(store.orders, 'stalls');
        const stalled = await api({ orders: stalling.repository, leaseMs: 500 });
        const survivor = await api();
        const [ticketId, key] = [await newTicket(), newId()];
        const firstTry = post(stalled, cookie, { ticketId }, key);
        await stalling.reached; // its workflow has started; it is about to record
        const firstOrderId = await planOf(key);
        const retry = await retried(() => post(survivor, cookie, { ticketId }, key));
        expect(retry.status).toBe(201);
        const order = retry.body as Order;
        await between?.(order, survivor);
        stalling.wake();
        const again = () => post(survivor, cookie, { ticketId }, key);
        return { first: await firstTry, firstOrderId, order, again };
      }

      test("when the stalled attempt's insert is refused by a rule (the hold limit), then it ends only its own workflow, never the retry's order's", async () => {
        const cookie = newUser();
        const request = await api();
        for (let i = 1; i < MAX_HOLDS; i++)
          expect((await post(request, cookie, { ticketId: await newTicket() })).status).toBe(201);
        const { first, firstOrderId, order, again } = await stallThenRetry(cookie);

        expect(first.status).toBe(429); // the retry's order took the last slot
        expect(await workflowStatus(order.id)).toBe('RUNNING');
        expect(await signalsOf(temporal, order.id)).toEqual([]); // nothing told the recorded order's workflow to go
        expect(await signalsOf(temporal, firstOrderId)).toContain(discardSignal.name);
        const replayed = await again();
        expect({ status: replayed.status, body: replayed.body }).toEqual({ status: 201, body: order });
      });

      test("when its insert would pass (the retry's order was cancelled meanwhile), then the fence refuses it: the key makes one order", async () => {
        const cookie = newUser();
        const { first, firstOrderId, order, again } = await stallThenRetry(cookie, async (recorded, survivor) => {
          expect((await survivor('DELETE', `/api/orders/${recorded.id}`, { headers: { cookie } })).status).toBe(204);
        });
        expect(first.status).toBe(409);
        expect(first.body).toEqual({
          errors: [
            { message: 'A retry with the same Idempotency-Key took this request over; the retry has the answer' },
          ],
        });
        expect(await store.orders.find(firstOrderId)).toBeUndefined();
        const replayed = await again();
        expect({ status: replayed.status, body: replayed.body }).toEqual({ status: 201, body: order });
      });
    });

    test('when a key has outlived its 24 hours, then it is pruned, and the key is new again', async () => {
      const ref = { userId: newId(), key: newId() };
      const plan = { orderId: newId(), expiresAt: new Date().toISOString() };
      const dayAgo = new Date(Date.now() - 25 * 3600_000).toISOString();
      const claim = (now: string, createdAfter: string) =>
        store.idempotency.claim(ref, { fingerprint: 'f', plan, now, lockedUntil: now, createdAfter });
      expect((await claim(dayAgo, dayAgo)).created).toBe(true);
      expect((await claim(dayAgo, dayAgo)).created).toBe(false);
      const now = new Date().toISOString();
      expect((await claim(now, new Date(Date.now() - 24 * 3600_000).toISOString())).created).toBe(true);
      await store.idempotency.claim(
        { ...ref, key: newId() },
        { fingerprint: 'f', plan, now: dayAgo, lockedUntil: dayAgo, createdAfter: dayAgo },
      );
      expect(await store.idempotency.prune(new Date(Date.now() - 24 * 3600_000).toISOString())).toBe(1);
      expect(await store.idempotency.prune(new Date(Date.now() - 24 * 3600_000).toISOString())).toBe(0);
    });
  });

  describe(`with a hold limit of ${MAX_HOLDS} active orders per user`, () => {
    test('when a user asks for one more, then 429 in the error shape with Retry-After, and no workflow starts for it', async () => {
      const request = await api();
      const cookie = newUser();
      const held: Order[] = [];
      for (let i = 0; i < MAX_HOLDS; i++) {
        const reply = await post(request, cookie, { ticketId: await newTicket() });
        expect(reply.status).toBe(201);
        held.push(reply.body as Order);
      }
      const ticketId = await newTicket();
      const over = await post(request, cookie, { ticketId });
      expect(over.status).toBe(429);
      expect(over.body).toEqual({
        errors: [
          {
            message: `You already hold ${MAX_HOLDS} active orders, the most one user may hold at once: pay for or cancel one of them first`,
          },
        ],
      });
      const retryAfter = Number(over.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(900);
      expect(await ordersOf(request, cookie)).toHaveLength(MAX_HOLDS);

      // another user is not limited by it, and a cancelled order frees a slot
      expect((await post(request, newUser(), { ticketId })).status).toBe(201);
      expect((await request('DELETE', `/api/orders/${held[0]!.id}`, { headers: { cookie } })).status).toBe(204);
      expect((await post(request, cookie, { ticketId: await newTicket() })).status).toBe(201);
    });

    test('when one user sends many POSTs at once, then exactly the limit are created and the rest get 429', async () => {
      const request = await api();
      const cookie = newUser();
      const tickets = await Promise.all(Array.from({ length: MAX_HOLDS + 5 }, newTicket));
      const replies = await Promise.all(tickets.map((ticketId) => post(request, cookie, { ticketId })));
      expect(replies.filter((r) => r.status === 201)).toHaveLength(MAX_HOLDS);
      expect(replies.filter((r) => r.status === 429)).toHaveLength(5);
      expect(await ordersOf(request, cookie)).toHaveLength(MAX_HOLDS);
    });

    test('when concurrent inserts pass the quick check together, then the database still lets only the limit through', async () => {
      const userId = newId();
      const input = async (): Promise<NewOrder> => ({
        orderId: newId(),
        userId,
        ticket: { id: await newTicket(), title: 'concert', price: 10 },
        expiresAt: new Date(Date.now() + 900_000).toISOString(),
      });
      const inputs = await Promise.all(Array.from({ length: MAX_HOLDS + 4 }, input));
      const results = await Promise.allSettled(
        inputs.map((o) => store.orders.record(place(o, new Date().toISOString(), 0, MAX_HOLDS))),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(MAX_HOLDS);
      for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
        expect(r.reason).toBeInstanceOf(HoldLimitReachedError);
      }
      expect((await store.tickets.findForOrder(inputs[0]!.ticket.id, userId))?.holds.count).toBe(MAX_HOLDS);
    });
  });
});
