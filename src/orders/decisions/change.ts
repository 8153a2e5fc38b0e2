import type { OutgoingEvent } from '../catalogue';
import type { OrderRecord } from '../order';
import type { OrderUpdate } from '../transitions';

/**
 * What the domain decided: the order's new state and the events it causes. The store writes it
 * all in one transaction (a transactional outbox), so a change is never without its events.
 */
export interface Change<R> {
  result: R;
  /** A new order's record (or an expiry's tombstone). */
  insert?: OrderRecord;
  update?: OrderUpdate;
  events: OutgoingEvent[];
  /** The insert holds only while its user has fewer than `max` active orders; the store checks it atomically. */
  holdLimit?: { userId: string; max: number };
}

/** A decision about one order, made on its current record (undefined when there is none). */
export interface Command<R> {
  orderId: string;
  decide(current: OrderRecord | undefined): Change<R>;
}

export const unchanged = <R>(result: R): Change<R> => ({ result, events: [] });
