/**
 * Temporal unreachable under a running service: every call of the API to it has a deadline
 * (TEMPORAL_CALL_TIMEOUT_MS, 1 s here), so POST /api/orders and POST …/extend answer 503 in the
 * error shape by then, instead of hanging (answers held back) or waiting out the SDK's retries
 * (connections refused). The service (API and worker) reaches the run's dev server through a TCP
 * proxy that the test holds or cuts; once Temporal is back, the client's retries succeed, and an
 * extension retried with its Idempotency-Key is made once. Nothing sleeps a fixed time.
 */
import { Subjects } from '../../src/orders/catalogue';
import { startTcpProxy, type TcpProxy } from '../../scripts/lib/tcp-proxy';
import { eventually } from '../../scripts/lib/eventually';
import { ticketThenOrder } from '../../scripts/lib/ticketing';
import { postOrder, type Reply } from '../support/api';
import { sessionCookieForUser } from '../support/auth';
import { CoreNatsPeer, type Recorder } from '../support/nats';
import { newId } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

const CALL_TIMEOUT_MS = 1000;
/** The request's own work (the database) and a busy machine, on top of the deadline. */
const SLACK_MS = 1500;

let proxy: TcpProxy;
let system: TestSystem;
let peer: CoreNatsPeer;
let events: Recorder;
const cookie = sessionCookieForUser(newId());

beforeAll(async () => {
  const [host, port] = process.env.TEST_TEMPORAL_ADDRESS!.split(':');
  proxy = await startTcpProxy({ host: host!, port: Number(port) });
  system = await startSystem({
    database: 'sqlite',
    expirationSeconds: 900,
    env: {
      TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
      TEMPORAL_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
      MAX_HOLD_EXTENSIONS: '2',
    },
  });
  peer = await CoreNatsPeer.connect(system.config.nats.url);
  events = peer.record(['order:updated']);
});

afterEach(() => {
  // Temporal back: held connections dropped, new ones let through
  proxy?.cut();
  proxy?.restore();
});

afterAll(async () => {
  events?.stop();
  await peer?.close();
  await system?.stop();
  await proxy?.close();
});

/** The request and how long its answer took; a request still unanswered well past the deadline fails. */
async function timed(method: string, path: string, body?: unknown, key?: string) {
  const started = Date.now();
  const headers = { cookie, ...(key ? { 'idempotency-key': key } : {}) };
  const signal = AbortSignal.timeout(CALL_TIMEOUT_MS + 4 * SLACK_MS);
  const reply = await system.request(method, path, { headers, body, signal });
  return { reply, ms: Date.now() - started };
}

interface ApiOrder {
  id: string;
  expiresAt: string;
  ticket: { id: string };
}
const once = (reply: Reply) => (reply.status === 503 ? undefined : reply);

describe.each([
  ['its answers are held back', () => proxy.freeze()],
  ['its connections are refused', () => proxy.cut()],
])('when Temporal is unreachable (%s)', (_how, outage) => {
  test('then an extension answers 503 within the deadline, and its retry with the same Idempotency-Key extends the hold once when Temporal is back', async () => {
    const { reply } = await ticketThenOrder(peer.publish, postOrder(system.request, cookie));
    const order = reply.body as ApiOrder;
    const key = newId();

    outage();
    const { reply: late, ms } = await timed('POST', `/api/orders/${order.id}/extend`, undefined, key);

    expect(late).toEqual({
      status: 503,
      body: {
        errors: [
          {
            message:
              'Temporal did not answer within 1 s: the hold may still be extended. Retry with the same ' +
              'Idempotency-Key to get its outcome without extending it twice',
          },
        ],
      },
    });
    expect(ms).toBeLessThan(CALL_TIMEOUT_MS + SLACK_MS);

    proxy.cut();
    proxy.restore();
    const retried = await eventually(
      async () => once((await timed('POST', `/api/orders/${order.id}/extend`, undefined, key)).reply),
      'the extension once Temporal is back',
    );
    const extended = { expiresAt: new Date(Date.parse(order.expiresAt) + 300_000).toISOString(), version: 1 };
    expect(retried).toMatchObject({ status: 200, body: extended });
    await events.waitFor('order:updated', (d) => d.id === order.id);
    expect(events.count('order:updated', (d) => d.id === order.id)).toBe(1);
    expect((await system.request('GET', `/api/orders/${order.id}`, { headers: { cookie } })).body).toMatchObject(
      extended,
    );
  });

  test('then POST /api/orders answers 503 within the deadline with nothing recorded, and a retry places the order once Temporal is back', async () => {
    const free = { id: newId(), version: 0, title: 'concert', price: 10, userId: newId() };
    await peer.publish(Subjects.TicketCreated, free);
    await eventually(() => system.db.store.tickets.findForOrder(free.id, newId()), 'the service to know the ticket');

    outage();
    const { reply, ms } = await timed('POST', '/api/orders', { ticketId: free.id });

    expect(reply).toEqual({
      status: 503,
      body: {
        errors: [
          {
            message:
              "Temporal did not confirm the order's workflow within 1 s. Nothing was recorded; retrying is safe.",
          },
        ],
      },
    });
    expect(ms).toBeLessThan(CALL_TIMEOUT_MS + SLACK_MS);
    const mine = (await system.request('GET', '/api/orders', { headers: { cookie } })).body as ApiOrder[];
    expect(mine.filter((o) => o.ticket.id === free.id)).toEqual([]);

    proxy.cut();
    proxy.restore();
    const placed = await eventually(
      async () => once((await timed('POST', '/api/orders', { ticketId: free.id })).reply),
      'the order once Temporal is back',
    );
    expect(placed).toMatchObject({ status: 201, body: { ticket: { id: free.id }, version: 0 } });
  });
});
