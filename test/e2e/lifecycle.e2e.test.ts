/**
 * End to end, as a client and the other services see it: the real Temporal dev server,
 * a real nats-server with JetStream, and a real database, with the API and the worker
 * wired exactly as their processes wire them. Nothing here sleeps a fixed time: it polls
 * the HTTP API and listens on NATS until the expected state appears.
 */
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { place } from '../../src/orders/decisions';
import { TicketAlreadyReservedError } from '../../src/orders/errors';
import { temporalOrderWorkflows } from '../../src/temporal/order-workflows';
import { orderStateQuery, orderWorkflowId, SearchAttributes, type OrderState } from '../../src/workflows/shared';
import { postOrder } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { CoreNatsPeer, type Recorder } from '../support/nats';
import { newId } from '../support/orders';
import { orderServiceOver } from '../support/service';
import { startSystem, type TestSystem } from '../support/system';

interface ApiOrder {
  id: string;
  userId: string;
  status: string;
  expiresAt: string;
  version: number;
  ticket: { id: string; title: string; price: number; version: number };
}

describe.each(['sqlite', 'postgres'] as const)('the order lifecycle on %s', (database) => {
  let system: TestSystem;
  let peer: CoreNatsPeer;
  let events: Recorder;
  let temporal: Client;
  const user = newId();
  const cookie = sessionCookieForUser(user);

  beforeAll(async () => {
    system = await startSystem({ database, expirationSeconds: 3 });
    peer = await CoreNatsPeer.connect(system.config.nats.url);
    events = peer.record(['order:created', 'order:cancelled', 'expiration:complete', 'payment:rejected']);
    const connection = await Connection.connect({ address: system.config.temporal.connection.address });
    temporal = new Client({ connection });
  });

  afterAll(async () => {
    events?.stop();
    await peer?.close();
    await temporal?.connection.close();
    await system?.stop();
  });

  /** The tickets service publishes ticket:created (core NATS); POST until the service has its copy, then the 201. */
  async function ticketAndOrder(title?: string, price?: number) {
    const { ticket, reply: res } = await ticketThenOrder(peer.publish, postOrder(system.request, cookie), {
      title,
      price,
    });
    expect(res.status).toBe(201);
    return { ticket, order: res.body as ApiOrder };
  }

  const getOrder = async (id: string) =>
    (await system.request('GET', `/api/orders/${id}`, { headers: { cookie } })).body as ApiOrder;
  const workflowResult = (orderId: string) =>
    temporal.workflow.getHandle(orderWorkflowId(orderId)).result() as Promise<OrderState>;

  test('when nobody pays within the 3-second window, then expiration:complete and order:cancelled arrive and GET says cancelled', async () => {
    const { ticket, order } = await ticketAndOrder('concert', 10);

    // exactly the contract's example shape
    expect(Object.keys(order).sort()).toEqual(['expiresAt', 'id', 'status', 'ticket', 'userId', 'version']);
    expect(Object.keys(order.ticket).sort()).toEqual(['id', 'price', 'title', 'version']);
    expect(order).toMatchObject({
      userId: user,
      status: 'created',
      version: 0,
      ticket: { id: ticket.id, title: 'concert', price: 10, version: 0 },
    });
    expect(new Date(order.expiresAt).toISOString()).toBe(order.expiresAt);

    expect(await events.waitFor('order:created', (d) => d.id === order.id)).toEqual({
      id: order.id,
      version: 0,
      status: 'created',
      userId: user,
      expiresAt: order.expiresAt,
      ticket: { id: ticket.id, price: 10 },
    });
    expect(await events.waitFor('expiration:complete', (d) => d.orderId === order.id)).toEqual({ orderId: order.id });
    expect(await events.waitFor('order:cancelled', (d) => d.id === order.id)).toEqual({
      id: order.id,
      version: 1,
      ticket: { id: ticket.id },
    });
    expect(await getOrder(order.id)).toMatchObject({ status: 'cancelled', version: 1 });
    expect(await workflowResult(order.id)).toMatchObject({ status: 'cancelled', ending: 'expired' });

    // a payment that comes after the expiry is refused with an event the payments service can refund
    const late = { id: newId(), orderId: order.id, stripeId: 'ch_late' };
    await peer.publish('payment:created', late);
    expect(await events.waitFor('payment:rejected', (d) => d.id === late.id)).toMatchObject({ orderId: order.id });
    expect(await getOrder(order.id)).toMatchObject({ status: 'cancelled', version: 1 });
  });

  test('when payment:created arrives within the window, then the order ends complete and never expires', async () => {
    const { order } = await ticketAndOrder('play', 25);
    const handle = temporal.workflow.getHandle(orderWorkflowId(order.id));
    expect(await handle.query(orderStateQuery)).toMatchObject({ status: 'created' });

    await peer.publish('payment:created', { id: newId(), orderId: order.id, stripeId: 'ch_paid' });

    expect(await workflowResult(order.id)).toMatchObject({ status: 'complete', ending: 'paid' });
    expect(await getOrder(order.id)).toMatchObject({ status: 'complete', version: 1 });
    // the workflow has ended, so no timer is left to expire it
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    expect(events.count('expiration:complete', (d) => d.orderId === order.id)).toBe(0);
    expect(events.count('order:cancelled', (d) => d.id === order.id)).toBe(0);
  });

  test('when the user cancels with DELETE, then order:cancelled is published and the workflow ends at once', async () => {
    const { ticket, order } = await ticketAndOrder();
    const res = await system.request('DELETE', `/api/orders/${order.id}`, { headers: { cookie } });
    expect(res.status).toBe(204);
    expect(await events.waitFor('order:cancelled', (d) => d.id === order.id)).toEqual({
      id: order.id,
      version: 1,
      ticket: { id: ticket.id },
    });
    expect(await workflowResult(order.id)).toMatchObject({ status: 'cancelled', ending: 'cancelled-by-user' });
    expect(events.count('expiration:complete', (d) => d.orderId === order.id)).toBe(0);
  });

  test('when eight clients POST for one ticket at once, then exactly one gets 201', async () => {
    const { ticket, order } = await ticketAndOrder();
    await system.request('DELETE', `/api/orders/${order.id}`, { headers: { cookie } });
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        system.request('POST', '/api/orders', {
          headers: { cookie: sessionCookieForUser(newId()) },
          body: { ticketId: ticket.id },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 400, 400, 400, 400, 400, 400, 400]);
    const losers = results.filter((r) => r.status === 400);
    losers.forEach((r) => expect(r.body).toEqual({ errors: [{ message: 'Ticket is already reserved' }] }));
  });

  test('when an order loses its ticket after its workflow started, then the worker ends that workflow not-recorded, and the Web UI lists it cancelled', async () => {
    const { ticket, order } = await ticketAndOrder();
    expect((await system.request('DELETE', `/api/orders/${order.id}`, { headers: { cookie } })).status).toBe(204);
    const real = temporalOrderWorkflows(temporal, system.config.temporal.taskQueue);
    let loser = '';
    const service = orderServiceOver(
      system.db.store,
      {
        ...real,
        // Between this order's start and its record, the ticket's order is cancelled and another takes it.
        async start(order) {
          await real.start(order);
          loser = order.orderId;
          await system.db.store.orders.record(
            place({ ...order, orderId: newId(), userId: newId() }, new Date().toISOString(), 0),
          );
        },
      },
      pino({ level: 'silent' }),
    );

    await expect(service.placeOrder(newId(), ticket.id)).rejects.toBeInstanceOf(TicketAlreadyReservedError);

    expect(await workflowResult(loser)).toMatchObject({
      status: 'cancelled',
      ending: 'not-recorded',
      discardReason: 'Ticket is already reserved',
    });
    const described = await temporal.workflow.getHandle(orderWorkflowId(loser)).describe();
    expect(described.status.name).toBe('COMPLETED'); // ended by its own code, not terminated
    expect(described.typedSearchAttributes.get(SearchAttributes.OrderStatus)).toBe('cancelled');
  });

  test('when the API reports health and metrics, then it is ready and counts orders, endings and requests', async () => {
    const res = await system.request('GET', '/readyz');
    expect(res).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'ok', temporal: 'ok' } } });

    const metrics = await (await fetch(`http://127.0.0.1:${system.api.port}/metrics`)).text();
    const created = Number(/^orders_created_total (\d+)/m.exec(metrics)?.[1]);
    expect(created).toBeGreaterThanOrEqual(4);
    expect(metrics).toMatch(
      /orders_http_request_duration_seconds_count\{method="POST",route="\/api\/orders",status="201"\} \d+/,
    );
    expect(metrics).toContain('process_resident_memory_bytes');
    // the expiry, payment and DELETE tests above each ended an order
    for (const ending of ['expired', 'paid', 'cancelled-by-user']) {
      expect(metrics).toMatch(new RegExp(`^orders_ended_total\\{ending="${ending}"\\} [1-9]`, 'm'));
    }
  });
});
