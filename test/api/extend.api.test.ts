/**
 * POST /api/orders/:orderId/extend on the real servers (the run's Temporal dev server, a
 * nats-server, SQLite and PostgreSQL): the workflow's update decides, the database records, and
 * `order:updated` reaches the other services. Nothing sleeps a fixed time.
 */
import { Client, Connection } from '@temporalio/client';
import { orderStateQuery, orderWorkflowId } from '../../src/workflows/shared';
import { postOrder } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { CoreNatsPeer, type Recorder } from '../support/nats';
import { newId } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

interface ApiOrder {
  id: string;
  userId: string;
  status: string;
  expiresAt: string;
  version: number;
  ticket: { id: string; title: string; price: number; version: number };
}

const FIVE_MINUTES = 300_000;
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

describe.each(['sqlite', 'postgres'] as const)('POST /api/orders/:orderId/extend on %s', (database) => {
  let system: TestSystem;
  let peer: CoreNatsPeer;
  let events: Recorder;
  let temporal: Client;
  const alice = newId();
  const as = (userId: string) => ({ cookie: sessionCookieForUser(userId) });

  beforeAll(async () => {
    system = await startSystem({
      database,
      expirationSeconds: 900,
      env: { MAX_HOLD_EXTENSIONS: '1', ORDER_EXTENSION_SECONDS: '300' },
    });
    peer = await CoreNatsPeer.connect(system.config.nats.url);
    events = peer.record(['order:updated']);
    temporal = new Client({
      connection: await Connection.connect({ address: system.config.temporal.connection.address }),
    });
  });

  afterAll(async () => {
    events?.stop();
    await peer?.close();
    await temporal?.connection.close();
    await system?.stop();
  });

  async function placeOrder(userId = alice) {
    const { reply } = await ticketThenOrder(peer.publish, postOrder(system.request, as(userId).cookie), {
      price: 42,
    });
    expect(reply.status).toBe(201);
    return reply.body as ApiOrder;
  }
  const extend = (orderId: string, userId = alice) =>
    system.request('POST', `/api/orders/${orderId}/extend`, { headers: as(userId) });

  test('when the holder extends an active order, then 200 with the order: expiresAt moved by 300 s, version + 1, and order:updated is published', async () => {
    const order = await placeOrder();
    const newDeadline = plus(order.expiresAt, FIVE_MINUTES);

    const res = await extend(order.id);

    expect(res).toEqual({ status: 200, body: { ...order, expiresAt: newDeadline, version: 1 } });
    expect(await system.request('GET', `/api/orders/${order.id}`, { headers: as(alice) })).toEqual(res);
    expect(await events.waitFor('order:updated', (d) => d.id === order.id)).toEqual({
      id: order.id,
      version: 1,
      status: 'created',
      userId: alice,
      expiresAt: newDeadline,
      ticket: { id: order.ticket.id, price: 42 },
    });
    const workflow = temporal.workflow.getHandle(orderWorkflowId(order.id));
    expect(await workflow.query(orderStateQuery)).toMatchObject({ expiresAt: newDeadline, extensions: 1 });
    // what the Web UI shows as the workflow's Current Details
    const metadata = await workflow.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain(`until **${newDeadline}** (extended once)`);
  });

  test('when the holder extends beyond MAX_HOLD_EXTENSIONS, then 409 in the error shape and nothing changes', async () => {
    const order = await placeOrder();
    expect((await extend(order.id)).status).toBe(200);

    expect(await extend(order.id)).toEqual({
      status: 409,
      body: { errors: [{ message: 'The hold of an order can be extended at most 1 time' }] },
    });
    expect((await system.request('GET', `/api/orders/${order.id}`, { headers: as(alice) })).body).toMatchObject({
      expiresAt: plus(order.expiresAt, FIVE_MINUTES),
      version: 1,
    });
    await events.waitFor('order:updated', (d) => d.id === order.id);
    expect(events.count('order:updated', (d) => d.id === order.id)).toBe(1);
  });

  test('when the order was cancelled, then 409 "Order is already cancelled"', async () => {
    const order = await placeOrder();
    expect((await system.request('DELETE', `/api/orders/${order.id}`, { headers: as(alice) })).status).toBe(204);

    expect(await extend(order.id)).toEqual({
      status: 409,
      body: { errors: [{ message: 'Order is already cancelled' }] },
    });
  });

  test("when the order is another user's, then 401 and it is not extended", async () => {
    const order = await placeOrder();
    expect(await extend(order.id, newId())).toEqual({ status: 401, body: { errors: [{ message: 'Not authorized' }] } });
    expect((await system.request('GET', `/api/orders/${order.id}`, { headers: as(alice) })).body).toMatchObject({
      expiresAt: order.expiresAt,
      version: 0,
    });
  });

  test('when the order is unknown, then 404; without a token, 401', async () => {
    expect(await extend(newId())).toEqual({ status: 404, body: { errors: [{ message: 'Order not found' }] } });
    expect(await system.request('POST', `/api/orders/${newId()}/extend`)).toEqual({
      status: 401,
      body: { errors: [{ message: 'Not authorized' }] },
    });
  });
});
