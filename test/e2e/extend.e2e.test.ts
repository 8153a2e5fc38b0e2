/**
 * A hold extended end to end, on the real servers: the order expires only after its new deadline,
 * with `expiration:complete` and `order:cancelled` once. Nothing sleeps a fixed time: it waits for
 * events on NATS and for the workflow's result, and reads when things happened from its history.
 */
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { orderWorkflowId, type OrderState } from '../../src/workflows/shared';
import { postOrder } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { CoreNatsPeer, type Recorder } from '../support/nats';
import { newId } from '../support/orders';
import { stepOf } from '../support/workflow-history';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
let peer: CoreNatsPeer;
let events: Recorder;
let temporal: Client;
const user = newId();
const cookie = sessionCookieForUser(user);

beforeAll(async () => {
  system = await startSystem({
    database: 'sqlite',
    expirationSeconds: 5, // room for the extension to arrive before the first deadline on a busy machine
    env: { MAX_HOLD_EXTENSIONS: '1', ORDER_EXTENSION_SECONDS: '3' },
  });
  peer = await CoreNatsPeer.connect(system.config.nats.url);
  events = peer.record(['order:created', 'order:updated', 'order:cancelled', 'expiration:complete']);
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

test('when the holder extends the hold, then the order expires only after the new deadline, with expiration:complete and order:cancelled once', async () => {
  const { ticket, reply } = await ticketThenOrder(peer.publish, postOrder(system.request, cookie));
  expect(reply.status).toBe(201);
  const order = reply.body as { id: string; expiresAt: string };

  const extended = await system.request('POST', `/api/orders/${order.id}/extend`, { headers: { cookie } });
  const newDeadline = new Date(Date.parse(order.expiresAt) + 3000).toISOString();
  expect(extended).toMatchObject({ status: 200, body: { id: order.id, expiresAt: newDeadline, version: 1 } });

  expect(await events.waitFor('order:updated', (d) => d.id === order.id)).toMatchObject({
    version: 1,
    expiresAt: newDeadline,
  });
  expect(await events.waitFor('expiration:complete', (d) => d.orderId === order.id)).toEqual({ orderId: order.id });
  expect(await events.waitFor('order:cancelled', (d) => d.id === order.id)).toEqual({
    id: order.id,
    version: 2,
    ticket: { id: ticket.id },
  });
  const handle = temporal.workflow.getHandle(orderWorkflowId(order.id));
  expect((await handle.result()) as OrderState).toMatchObject({
    status: 'cancelled',
    ending: 'expired',
    expiresAt: newDeadline,
    extensions: 1,
  });
  expect(await system.request('GET', `/api/orders/${order.id}`, { headers: { cookie } })).toMatchObject({
    status: 200,
    body: { status: 'cancelled', version: 2, expiresAt: newDeadline },
  });

  // The server's own clock: the expiry (a local activity, recorded once it ran) came only once the
  // new deadline had passed, and the timer of the old deadline was cancelled, not fired.
  const history = (await handle.fetchHistory()).events ?? [];
  const expiry = history.find((e) => stepOf(e) === 'expireOrder');
  expect(tsToMs(expiry?.eventTime)).toBeGreaterThanOrEqual(Date.parse(newDeadline));
  expect(history.filter((e) => e.timerStartedEventAttributes)).toHaveLength(2);
  expect(history.filter((e) => e.timerCanceledEventAttributes)).toHaveLength(1);
  expect(history.filter((e) => e.timerFiredEventAttributes)).toHaveLength(1);

  expect(events.count('expiration:complete', (d) => d.orderId === order.id)).toBe(1);
  expect(events.count('order:cancelled', (d) => d.id === order.id)).toBe(1);
});
