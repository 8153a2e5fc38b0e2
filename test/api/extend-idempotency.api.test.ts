/**
 * POST /api/orders/:orderId/extend with an `Idempotency-Key`, on the real servers (the run's
 * Temporal dev server, a nats-server, SQLite): the key is the Temporal update's id, so a client's
 * retry after a lost answer is the same extension, made once, and gets the same answer; another key,
 * or no key, is another extension. Nothing sleeps a fixed time.
 */
import { Client, Connection } from '@temporalio/client';
import { orderStateQuery, orderWorkflowId } from '../../src/workflows/shared';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { postOrder } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { CoreNatsPeer, type Recorder } from '../support/nats';
import { newId } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

interface ApiOrder {
  id: string;
  expiresAt: string;
  version: number;
}

const FIVE_MINUTES = 300_000;
const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

let system: TestSystem;
let peer: CoreNatsPeer;
let events: Recorder;
let temporal: Client;
const alice = newId();
const cookie = sessionCookieForUser(alice);

beforeAll(async () => {
  system = await startSystem({
    database: 'sqlite',
    expirationSeconds: 900,
    env: { MAX_HOLD_EXTENSIONS: '2', ORDER_EXTENSION_SECONDS: '300' },
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

async function placeOrder(): Promise<ApiOrder> {
  const { reply } = await ticketThenOrder(peer.publish, postOrder(system.request, cookie));
  expect(reply.status).toBe(201);
  return reply.body as ApiOrder;
}
const extend = (orderId: string, key?: string) =>
  system.request('POST', `/api/orders/${orderId}/extend`, {
    headers: { cookie, ...(key === undefined ? {} : { 'idempotency-key': key }) },
  });
const read = async (orderId: string) =>
  (await system.request('GET', `/api/orders/${orderId}`, { headers: { cookie } })).body as ApiOrder;
const extensionsOf = async (orderId: string) =>
  (await temporal.workflow.getHandle(orderWorkflowId(orderId)).query(orderStateQuery)).extensions;
/** Every order:updated of the order, once the one at `version` has arrived (each is one extension). */
async function updatesUntil(orderId: string, version: number): Promise<unknown[]> {
  await events.waitFor('order:updated', (d) => d.id === orderId && d.version === version);
  return events.messages
    .filter((m) => m.subject === 'order:updated' && m.data.id === orderId)
    .map((m) => m.data.version);
}

test('when the holder retries an extension with the same Idempotency-Key, then the hold is extended once and the retry gets the same answer', async () => {
  const order = await placeOrder();
  const key = crypto.randomUUID();

  const first = await extend(order.id, key);
  const retry = await extend(order.id, key);

  expect(first).toEqual({
    status: 200,
    body: { ...order, expiresAt: plus(order.expiresAt, FIVE_MINUTES), version: 1 },
  });
  expect(retry).toEqual(first);
  expect(await read(order.id)).toEqual(first.body);
  expect(await extensionsOf(order.id)).toBe(1);
  expect(await updatesUntil(order.id, 1)).toEqual([1]);
});

test('when the holder extends again with another key, then it is a second extension', async () => {
  const order = await placeOrder();
  expect((await extend(order.id, 'first-extension')).status).toBe(200);

  const second = await extend(order.id, 'second-extension');

  expect(second).toEqual({
    status: 200,
    body: { ...order, expiresAt: plus(order.expiresAt, 2 * FIVE_MINUTES), version: 2 },
  });
  expect(await extensionsOf(order.id)).toBe(2);
  expect(await updatesUntil(order.id, 2)).toEqual([1, 2]);
});

test('when one key extends two orders, then each order is extended: the key is scoped to its order', async () => {
  const [a, b] = [await placeOrder(), await placeOrder()];
  const key = crypto.randomUUID();

  for (const order of [a, b]) expect((await extend(order.id, key)).body).toMatchObject({ id: order.id, version: 1 });
  expect([await extensionsOf(a.id), await extensionsOf(b.id)]).toEqual([1, 1]);
});

test('when no Idempotency-Key is sent, then each request is another extension, as before', async () => {
  const order = await placeOrder();

  expect((await extend(order.id)).body).toMatchObject({ version: 1 });
  expect((await extend(order.id)).body).toMatchObject({
    version: 2,
    expiresAt: plus(order.expiresAt, 2 * FIVE_MINUTES),
  });
  expect(await extensionsOf(order.id)).toBe(2);
});

test('when the Idempotency-Key is malformed, then 400 on the header and the hold is not extended', async () => {
  const order = await placeOrder();

  expect(await extend(order.id, 'a key with spaces')).toEqual({
    status: 400,
    body: {
      errors: [{ field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters, such as a UUID' }],
    },
  });
  expect(await read(order.id)).toEqual(order);
  expect(await extensionsOf(order.id)).toBeUndefined();
});
