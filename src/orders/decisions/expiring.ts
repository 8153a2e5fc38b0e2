import { expirationComplete, orderCancelled } from '../events';
import { isActive, OrderStatus, type NewOrder } from '../order';
import { transition } from '../transitions';
import { unchanged, type Command } from './change';
import { outcomeOf, type Outcome } from './outcome';
import { newRecord } from './placing';

/**
 * The deadline passed unpaid: `expiration:complete`, then the order is cancelled (`order:cancelled`).
 * An order that has already ended stays as it ended, and says how. No record means the API never
 * recorded the order: a tombstone takes its id (OrderRecord.tombstone).
 */
export const expire = (order: NewOrder, now: string): Command<Outcome> => ({
  orderId: order.orderId,
  decide(current) {
    const expired = { status: OrderStatus.Cancelled, ending: 'expired' } as const;
    if (!current) {
      const tombstone = {
        ...newRecord(order, OrderStatus.Cancelled, now),
        ending: 'expired' as const,
        tombstone: true,
      };
      return { result: expired, insert: tombstone, events: [] };
    }
    if (!isActive(current.status)) return unchanged(outcomeOf(current));
    const update = transition(current, OrderStatus.Cancelled, { ending: 'expired' });
    return {
      result: expired,
      update,
      events: [expirationComplete(current.id), orderCancelled(current, update.version)],
    };
  },
});
