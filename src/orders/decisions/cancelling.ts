import { orderCancelled } from '../events';
import { isActive, OrderStatus } from '../order';
import { transition } from '../transitions';
import { unchanged, type Command } from './change';

/** DELETE: an active order is cancelled, with `order:cancelled`; an ended one stays as it is. */
export const cancelByUser = (orderId: string): Command<{ status: OrderStatus | undefined }> => ({
  orderId,
  decide(current) {
    if (!current || current.tombstone || !isActive(current.status)) return unchanged({ status: current?.status });
    const update = transition(current, OrderStatus.Cancelled, { ending: 'cancelled-by-user' });
    return { result: { status: update.status }, update, events: [orderCancelled(current, update.version)] };
  },
});
