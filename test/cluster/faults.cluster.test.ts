/**
 * Faults that exist only in the cluster, each injected as an operator would: kill -9 of one process
 * found in processes.json, which `npm run cluster`'s supervisor starts again. Orders placed before and
 * during each fault must all end, each with its events once on the stream, and no POST may be lost.
 */
import { randomUUID } from 'node:crypto';
import { eventually } from '../../scripts/lib/eventually';
import { connect, type NatsConnection } from 'nats';
import { newId } from '../support/orders';
import {
  CLUSTER_WINDOW_SECONDS,
  clusterUser,
  eventsOf,
  kill9,
  natsUrl,
  restarted,
  streamEvents,
  type ClusterUser,
} from './support/cluster';

let nc: NatsConnection;

beforeAll(async () => {
  nc = await connect({ servers: natsUrl().split(','), maxReconnectAttempts: -1, reconnectTimeWait: 100 });
});

afterAll(async () => {
  await nc?.close();
});

/**
 * The tickets service's announcement, published until the stream acknowledges it. A core NATS
 * publish (as that service makes) written to a node at the moment it is killed is lost, which no
 * cluster can prevent; these tests are about what happens to an event once it is on the stream.
 */
const announceTicket = (ticket: Record<string, unknown>) =>
  eventually(
    () =>
      nc
        .jetstream()
        .publish('ticket:created', JSON.stringify(ticket), { msgID: `test:${String(ticket.id)}`, timeout: 2000 }),
    `the stream to take ticket ${String(ticket.id)}`,
    60_000,
  );

/**
 * Places one order as a client behind a load balancer would: a POST that fails (a refused
 * connection, a 5xx, a 404 until the ticket's copy arrives) is sent again with the same
 * Idempotency-Key, to the other replica when one is down.
 */
async function placeOrder(user: ClusterUser, replica = 0): Promise<string> {
  const ticket = { id: newId(), version: 0, title: 'fault', price: 1, userId: newId() };
  await announceTicket(ticket);
  const key = randomUUID();
  let attempt = replica;
  const reply = await eventually(
    async () => {
      const r = await user
        .request(attempt++ % 2, 'POST', '/api/orders', { 'idempotency-key': key }, { ticketId: ticket.id })
        .catch(() => undefined);
      return r && r.status === 201 ? r : undefined;
    },
    `an order for ticket ${ticket.id}`,
    120_000,
  );
  return (reply.body as { id: string }).id;
}

/** Every order ends: each GET says cancelled, and the stream has its events once, in order. */
async function expectAllExpired(user: ClusterUser, ids: string[]): Promise<void> {
  await eventually(
    async () => {
      const reply = await user.request(0, 'GET', '/api/orders').catch(() => undefined);
      const orders = (reply?.body ?? []) as { id: string; status: string }[];
      return ids.every((id) => orders.find((o) => o.id === id)?.status === 'cancelled') ? true : undefined;
    },
    `${ids.length} orders to expire`,
    (CLUSTER_WINDOW_SECONDS + 180) * 1000,
  );
  // The outbox publishes after the commit that GET reads, and a killed worker's claim on its rows
  // runs out only after OUTBOX_CLAIM_SECONDS: wait until each order's last event is on the stream.
  const events = await eventually(
    async () => {
      const all = await streamEvents();
      return ids.every((id) => eventsOf(all, id).includes('order:cancelled')) ? all : undefined;
    },
    `order:cancelled of ${ids.length} orders on the stream`,
    120_000,
  );
  for (const id of ids)
    expect(eventsOf(events, id)).toEqual(['order:created', 'expiration:complete', 'order:cancelled']);
  const list = ((await user.request(1, 'GET', '/api/orders')).body as unknown[]).length;
  expect(list).toBe(ids.length); // no order was placed twice by the retries
}

test('when one NATS node is killed, then the stream keeps its quorum and no event is lost', async () => {
  const user = clusterUser(newId());
  const before = [await placeOrder(user, 0), await placeOrder(user, 1)];
  const pid = kill9('nats-1');
  const during = [await placeOrder(user, 0), await placeOrder(user, 1)];
  await restarted('nats-1', pid);
  await expectAllExpired(user, [...before, ...during]);
});

test('when a worker replica is killed -9 mid-hold, then its workflows and events go on', async () => {
  const user = clusterUser(newId());
  const ids = await Promise.all([0, 1, 0, 1].map((replica) => placeOrder(user, replica)));
  const pid = kill9('worker-1');
  ids.push(await placeOrder(user, 1));
  await restarted('worker-1', pid);
  await expectAllExpired(user, ids);
});

test("when Temporal's history service is killed and started again, then every hold still expires", async () => {
  const user = clusterUser(newId());
  const ids = [await placeOrder(user, 0), await placeOrder(user, 1)];
  const pid = kill9('temporal-history');
  ids.push(await placeOrder(user, 0)); // waits out the restart: the POST is retried with its key
  await restarted('temporal-history', pid);
  await expectAllExpired(user, ids);
});

test('when an API replica is killed during a burst of POSTs, then every POST ends in one order', async () => {
  const user = clusterUser(newId());
  const burst = Array.from({ length: 8 }, (_, i) => placeOrder(user, i % 2));
  const pid = kill9('api-1');
  const ids = await Promise.all(burst);
  expect(new Set(ids).size).toBe(ids.length);
  await restarted('api-1', pid);
  await expectAllExpired(user, ids);
});
