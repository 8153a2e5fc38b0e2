/**
 * Invariant 7 on the real servers: a payment published before the deadline completes the order,
 * whichever process was down when it was published. Here the worker (which consumes payments and
 * runs the expiries) is down from before the payment until after the deadline.
 */
import pino from 'pino';
import { startWorker } from '../../src/worker';
import { eventually } from '../../scripts/lib/eventually';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { postOrder } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { CoreNatsPeer, type Recorder } from '../support/nats';
import { newId } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

let system: TestSystem;
let peer: CoreNatsPeer;
let events: Recorder;
const cookie = sessionCookieForUser(newId());

beforeAll(async () => {
  system = await startSystem({ database: 'sqlite', expirationSeconds: 6 });
  peer = await CoreNatsPeer.connect(system.config.nats.url);
  events = peer.record(['order:cancelled', 'expiration:complete', 'payment:rejected']);
});

afterAll(async () => {
  events?.stop();
  await peer?.close();
  await system?.stop();
});

test('when the worker is down from before a payment until after the deadline, then the payment still completes the order', async () => {
  const { reply } = await ticketThenOrder(peer.publish, postOrder(system.request, cookie));
  expect(reply.status).toBe(201);
  const order = reply.body as { id: string; expiresAt: string };

  await system.worker.stop();
  const payment = { id: newId(), orderId: order.id, stripeId: 'ch_in_time' };
  await peer.publish('payment:created', payment);
  expect(Date.now()).toBeLessThan(Date.parse(order.expiresAt)); // published in time
  await eventually(
    async () => (Date.now() > Date.parse(order.expiresAt) + 1000 ? true : undefined),
    'the deadline to pass while the worker is down',
  );

  const next = await startWorker(system.config, pino({ level: 'silent' }));
  try {
    const ended = await eventually(async () => {
      const res = await system.request('GET', `/api/orders/${order.id}`, { headers: { cookie } });
      const body = res.body as { status: string; version: number };
      return body.status === 'created' ? undefined : body;
    }, 'the order to end');
    expect(ended).toMatchObject({ status: 'complete', version: 1 });
    expect(events.count('payment:rejected', (d) => d.id === payment.id)).toBe(0);
    expect(events.count('order:cancelled', (d) => d.id === order.id)).toBe(0);
  } finally {
    await next.stop();
  }
});
