/**
 * The other services of the ticketing system, as they publish in production: core NATS, fire and
 * forget. Tickets (created, and updated out of order), payments, and the poison messages that a
 * broken or hostile service might send.
 */
import type { NatsConnection } from 'nats';
import { Subjects } from '../../src/orders/catalogue';
import type { Random } from '../random';
import type { Ledger, PaymentKind } from './ledger';
import type { PoisonKind } from './plan';

/** Marks every poison message, so that the checker tells them from the rest. */
export const POISON_MARKER = 'chaos-poison';

export class OtherServices {
  constructor(
    private readonly nc: NatsConnection,
    private readonly ledger: Ledger,
  ) {}

  publishTickets(ids: readonly string[]): void {
    for (const id of ids) {
      const ticket = { id, version: 0, title: `concert ${id.slice(-4)}`, price: 10, userId: 'tickets-service' };
      this.ledger.ticketVersions.set(id, { version: 0, title: ticket.title, price: ticket.price });
      this.publish(Subjects.TicketCreated, JSON.stringify(ticket));
    }
  }

  /** The versions in the order given (shuffled by the plan), a little apart. */
  async publishTicketUpdates(id: string, versions: readonly number[], random: Random): Promise<void> {
    for (const version of versions) {
      const update = { id, version, title: `concert ${id.slice(-4)} v${version}`, price: 10 + version, userId: 'x' };
      const last = this.ledger.ticketVersions.get(id);
      if (!last || version > last.version)
        this.ledger.ticketVersions.set(id, { version, title: update.title, price: update.price });
      this.publish(Subjects.TicketUpdated, JSON.stringify(update));
      await new Promise((resolve) => setTimeout(resolve, random.between(20, 300)));
    }
  }

  publishPayment(paymentId: string, orderId: string, kind: PaymentKind): void {
    this.ledger.payments.push({ paymentId, orderId, kind, sentAt: Date.now() });
    this.publish(Subjects.PaymentCreated, JSON.stringify({ id: paymentId, orderId, stripeId: `ch_${paymentId}` }));
  }

  /** `endedOrder`: an order of this run that has ended, if there is one yet. */
  publishPoison(kind: PoisonKind, n: number, endedOrder: string | undefined): void {
    const marker = `${POISON_MARKER}-${n}`;
    const payment = (id: string, orderId: string) => JSON.stringify({ id, orderId, stripeId: `ch_${marker}` });
    const [subject, payload] = ((): [string, string] => {
      switch (kind) {
        case 'crlf-id-unknown-order':
          return [Subjects.PaymentCreated, payment(`${marker}\r\nNats-Msg-Id: x`, `${marker}-unknown-order`)];
        case 'crlf-id-ended-order':
          return [Subjects.PaymentCreated, payment(`${marker}\r\n`, endedOrder ?? `${marker}-unknown-order`)];
        case 'huge-id':
          return [Subjects.PaymentCreated, payment(`${marker}-${'x'.repeat(600_000)}`, endedOrder ?? marker)];
        case 'bad-json-payment':
          return [Subjects.PaymentCreated, `{"id":"${marker}","orderId":`];
        case 'wrong-types-payment':
          return [Subjects.PaymentCreated, JSON.stringify({ id: 12345, orderId: [marker], stripeId: null })];
        case 'empty-payment':
          return [Subjects.PaymentCreated, '']; // no marker fits: the checker takes what does not parse as poison
        case 'bad-json-ticket':
          return [Subjects.TicketCreated, `${marker} is not JSON {`];
        case 'wrong-types-ticket-update':
          return [Subjects.TicketUpdated, JSON.stringify({ id: marker, version: 'one', price: 'free', title: 7 })];
      }
    })();
    this.ledger.poison.push({ marker, subject, what: kind, bytes: Buffer.byteLength(payload), sentAt: Date.now() });
    this.publish(subject, payload);
  }

  private publish(subject: string, payload: string): void {
    try {
      this.nc.publish(subject, payload);
    } catch {
      // the connection is closed (the run is stopping): a lost message, as with core NATS in production
    }
  }
}
