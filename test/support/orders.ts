import { ObjectId } from 'bson';
import { place } from '../../src/orders/decisions';
import type { Store } from '../../src/store';
import type { NewOrder } from '../../src/orders/order';

export const newId = (): string => new ObjectId().toHexString();

/** A ticket in the store and an order for it, expiring `windowMs` after `nowMs`, as the API would record them. */
export async function seedOrder(store: Store, nowMs: number, windowMs = 15 * 60_000): Promise<NewOrder> {
  const ticket = { id: newId(), title: 'concert', price: 20, version: 0 };
  await store.tickets.upsert(ticket);
  const input: NewOrder = {
    orderId: newId(),
    userId: newId(),
    ticket: { id: ticket.id, title: ticket.title, price: ticket.price },
    expiresAt: new Date(nowMs + windowMs).toISOString(),
  };
  await store.orders.record(place(input, new Date(nowMs).toISOString(), ticket.version));
  return input;
}

/** The subjects in the outbox, in order, optionally only those of one order / payment. */
export async function outboxSubjects(store: Store, about?: string): Promise<string[]> {
  const events = await store.outbox.pending(1000);
  return events.filter((e) => !about || JSON.stringify(e.data).includes(about)).map((e) => e.subject);
}
