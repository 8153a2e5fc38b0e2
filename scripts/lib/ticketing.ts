import { ObjectId } from 'bson';
import { Subjects, type EventPayloads } from '../../src/orders/catalogue';
import { eventually } from './eventually';

export type TicketCreated = EventPayloads[typeof Subjects.TicketCreated];
export interface Reply {
  status: number;
  body: unknown;
}

/**
 * How every order starts, for the tests and the demo: the tickets service publishes `ticket:created`
 * (core NATS, through `publish`), then a user POSTs /api/orders for it (`post`) until the service has
 * its copy of the ticket, which comes through NATS: until then the POST answers 404 (and 503 while the
 * service is still starting). Returns the ticket and the first other answer, for the caller to check
 * (201 and the order, as a rule).
 */
export async function ticketThenOrder(
  publish: (subject: string, data: unknown) => Promise<unknown>,
  post: (ticketId: string) => Promise<Reply>,
  { title = 'concert', price = 10 }: { title?: string; price?: number } = {},
  timeoutMs = 30_000,
): Promise<{ ticket: TicketCreated; reply: Reply }> {
  const newId = () => new ObjectId().toHexString();
  const ticket: TicketCreated = { id: newId(), version: 0, title, price, userId: newId() };
  await publish(Subjects.TicketCreated, ticket);
  const reply = await eventually(
    async () => {
      const res = await post(ticket.id);
      return res.status === 404 || res.status === 503 ? undefined : res;
    },
    `the service to know ticket ${ticket.id} (POST /api/orders answers 404 until then)`,
    timeoutMs,
  );
  return { ticket, reply };
}
