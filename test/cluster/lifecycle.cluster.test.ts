/**
 * The order lifecycle on the production topology: two API replicas behind no balancer (each test
 * uses both), two worker replicas sharing the task queue, the JetStream consumers and the outbox,
 * the full Temporal server and a 3-node NATS cluster.
 */
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { eventually } from '../../scripts/lib/eventually';
import { CoreNatsPeer, type Recorder } from '../support/nats';
import { newId } from '../support/orders';
import {
  CLUSTER_WINDOW_SECONDS,
  clusterUser,
  eventsOf,
  natsUrl,
  streamEvents,
  type ClusterUser,
} from './support/cluster';

interface ApiOrder {
  id: string;
  status: string;
  version: number;
  ticket: { id: string; title: string; version: number };
}

let peer: CoreNatsPeer;
let published: Recorder;
const SERVICE_SUBJECTS = ['order:created', 'order:cancelled', 'expiration:complete', 'payment:rejected'];

beforeAll(async () => {
  peer = await CoreNatsPeer.connect(natsUrl());
  // a core subscriber sees every publish, also those the stream drops as duplicates
  published = peer.record(SERVICE_SUBJECTS);
});

afterAll(async () => {
  published?.stop();
  await peer?.close();
});

async function placeOrder(user: ClusterUser, replica: number, title = 'concert'): Promise<ApiOrder> {
  const { reply } = await ticketThenOrder(
    peer.publish,
    async (ticketId) => user.request(replica, 'POST', '/api/orders', {}, { ticketId }),
    { title },
    60_000,
  );
  expect(reply.status).toBe(201);
  return reply.body as ApiOrder;
}

const statusOn = async (user: ClusterUser, replica: number, id: string) =>
  ((await user.request(replica, 'GET', `/api/orders/${id}`)).body as ApiOrder).status;

const WAIT_FOR_EXPIRY_MS = (CLUSTER_WINDOW_SECONDS + 60) * 1000;

test('when nobody pays, then the order expires: expiration:complete before order:cancelled, each published once', async () => {
  const user = clusterUser(newId());
  const order = await placeOrder(user, 0);
  await published.waitFor('order:cancelled', (d) => d.id === order.id, WAIT_FOR_EXPIRY_MS);
  expect(await statusOn(user, 1, order.id)).toBe('cancelled');

  const events = await streamEvents();
  expect(eventsOf(events, order.id)).toEqual(['order:created', 'expiration:complete', 'order:cancelled']);
});

test('when payment:created arrives in time, then the order completes on either replica and never expires', async () => {
  const user = clusterUser(newId());
  const order = await placeOrder(user, 1);
  await peer.publish('payment:created', { id: newId(), orderId: order.id, stripeId: 'ch_cluster' });
  await eventually(async () => ((await statusOn(user, 0, order.id)) === 'complete' ? true : undefined), 'complete');
  expect(await statusOn(user, 1, order.id)).toBe('complete');
});

test('when the user cancels on one replica, then the other says cancelled and order:cancelled is published', async () => {
  const user = clusterUser(newId());
  const order = await placeOrder(user, 0);
  expect((await user.request(1, 'DELETE', `/api/orders/${order.id}`)).status).toBe(204);
  expect(await statusOn(user, 0, order.id)).toBe('cancelled');
  await published.waitFor('order:cancelled', (d) => d.id === order.id);
});

test('when many POST at once across both replicas, then each ticket is held once', async () => {
  const tickets = Array.from({ length: 6 }, () => ({
    id: newId(),
    version: 0,
    title: 'rush',
    price: 5,
    userId: newId(),
  }));
  for (const t of tickets) await peer.publish('ticket:created', t);
  const users = Array.from({ length: 4 }, () => clusterUser(newId()));
  const attempt = (ticketId: string, i: number) =>
    eventually(async () => {
      const reply = await users[i % users.length]!.request(i % 2, 'POST', '/api/orders', {}, { ticketId });
      return reply.status === 404 ? undefined : reply; // until this replica has the ticket's copy
    }, `ticket ${ticketId}`);
  const replies = await Promise.all(tickets.flatMap((t) => [0, 1, 2, 3].map((i) => attempt(t.id, i))));
  for (const t of tickets) {
    const forTicket = replies.filter((r) => (r.body as ApiOrder).ticket?.id === t.id && r.status === 201);
    expect(forTicket).toHaveLength(1);
  }
  const refused = replies.filter((r) => r.status !== 201);
  expect(refused.every((r) => r.status === 400 || r.status === 409)).toBe(true);
  expect(refused).toHaveLength(tickets.length * 3);
});

test('when a ticket update lands before its creation, then the versions still apply in order across the workers', async () => {
  const ticket = { id: newId(), title: 'v0', price: 10, userId: newId() };
  // out of order: each worker replica pulls from the same consumers, so an early version may reach
  // either one; it waits (redelivered) until the versions before it are applied
  await peer.publish('ticket:updated', { ...ticket, version: 2, title: 'v2' });
  await peer.publish('ticket:updated', { ...ticket, version: 1, title: 'v1' });
  await peer.publish('ticket:created', { ...ticket, version: 0 });
  const user = clusterUser(newId());
  const order = await eventually(
    async () => {
      const reply = await user.request(0, 'POST', '/api/orders', {}, { ticketId: ticket.id });
      return reply.status === 201 && (reply.body as ApiOrder).ticket.version === 2
        ? (reply.body as ApiOrder)
        : undefined;
    },
    'the ticket at version 2',
    60_000,
  );
  expect(order.ticket).toMatchObject({ title: 'v2', version: 2 });
});

test('with two workers relaying the outbox, then every event was published exactly once', async () => {
  const byMsgId = new Map<string, number>();
  for (const m of published.messages) byMsgId.set(m.msgId ?? '(none)', (byMsgId.get(m.msgId ?? '(none)') ?? 0) + 1);
  expect(byMsgId.size).toBeGreaterThan(10);
  expect([...byMsgId.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  console.log(`outbox: ${published.messages.length} publishes of ${byMsgId.size} events by two relays`);
});
