/** The bench's client of the API: its tickets, learnt from NATS, and POST /api/orders. */
import http from 'node:http';
import { ObjectId } from 'bson';
import jwt from 'jsonwebtoken';
import type { NatsConnection } from 'nats';
import { sessionCookie } from '../src/api/auth';
import { Subjects } from '../src/orders/catalogue';
import { ticketThenOrder } from '../scripts/lib/ticketing';
import { config } from './config';
import type { Resources } from '../scripts/lib/resources';

export type PostOrder = (ticketId: string) => Promise<{ status: number; body: string }>;

/**
 * A flash sale's crowd: consecutive orders come from different users, as each of its people
 * reserves a ticket or two. (One user with every order made each POST's hold-limit count scan
 * thousands of that user's holds, a cost no real user brings.)
 */
const USERS = 1000;
const cookies = Array.from({ length: USERS }, (_, i) =>
  sessionCookie(jwt.sign({ id: `bench-user-${i}` }, config.jwtKey)),
);
let nextUser = 0;

/** POST /api/orders as a signed-in user, the next of the crowd each time. */
export function restClient(resources: Resources, apiPort: number): PostOrder {
  // node:http with keep-alive: a load generator several times lighter than fetch, which shares the 2 cores
  const agent = new http.Agent({ keepAlive: true, maxSockets: config.concurrency });
  resources.add('HTTP agent', () => agent.destroy());
  const send = (ticketId: string, cookie: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ ticketId });
      const req = http.request(
        {
          agent,
          host: '127.0.0.1',
          port: apiPort,
          path: '/api/orders',
          method: 'POST',
          headers: { cookie, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive socket that the API closed as idle while this request was being sent on it:
        // the API never read the request, so it is sent again on a fresh socket (Node's own advice).
        if (req.reusedSocket && err.code === 'ECONNRESET') send(ticketId, cookie).then(resolve, reject);
        else reject(err);
      });
      req.end(body);
    });
  return (ticketId) => send(ticketId, cookies[nextUser++ % USERS]!);
}

/**
 * Publishes `count` tickets' ticket:created, then one more through the shared "ticket, then order"
 * helper: the service consumes tickets in order, so once it knows that last one it knows them all.
 */
export async function seedTickets(nc: NatsConnection, post: PostOrder, count: number): Promise<string[]> {
  // in parts, so that each part's last ticket arrives within the helper's timeout however many there are
  const tickets: string[] = [];
  for (let left = count; left > 0; left -= SEED_PART)
    tickets.push(...(await seedPart(nc, post, Math.min(left, SEED_PART))));
  return tickets;
}

const SEED_PART = 5000;

async function seedPart(nc: NatsConnection, post: PostOrder, count: number): Promise<string[]> {
  const publish = async (subject: string, data: unknown) => {
    nc.publish(subject, JSON.stringify(data));
    await nc.flush();
  };
  const tickets = Array.from({ length: count }, () => new ObjectId().toHexString());
  for (const id of tickets)
    nc.publish(Subjects.TicketCreated, JSON.stringify({ id, version: 0, title: 'bench', price: 1, userId: 'u' }));
  await ticketThenOrder(publish, post, { title: 'bench', price: 1 }, 120_000);
  return tickets;
}
