import type { OutgoingEvent } from '../catalogue';
import type { DecidedPayment, OrderRecord } from '../order';
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
  /** A payment this change decides for good: recorded with it, so that it is never decided again. */
  decidedPayment?: DecidedPayment;
}

/**
 * A decision about one order, made on its current record (undefined when there is none). A command
 * about a payment names it (`paymentId`), and is told how that payment was decided before, if it was.
 */
export interface Command<R> {
  orderId: string;
  paymentId?: string;
  decide(current: OrderRecord | undefined, decided?: DecidedPayment): Change<R>;
}

export const unchanged = <R>(result: R): Change<R> => ({ result, events: [] });

/**
 * The command `make` builds for a time, with the clock read when it decides: inside the store's
 * transaction, after any wait for the order's lock, not before it. A reminder or an extension that
 * waited a second for the lock used to be judged by the time before the wait, and could go out past
 * its deadline.
 */
export const decidedNow = <R>(make: (now: string) => Command<R>, clock: () => Date): Command<R> => ({
  ...make(clock().toISOString()),
  decide: (current, decided) => make(clock().toISOString()).decide(current, decided),
});
