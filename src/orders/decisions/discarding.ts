import { OrderStatus, type NewOrder } from '../order';
import { unchanged, type Command } from './change';
import { newRecord } from './placing';

/**
 * The API could not record the order (a rule refused it, or a retry took its request over), so its
 * workflow ends: a tombstone takes the order's id, and nothing can record it later. Only while no
 * order with that id exists: a recorded order ends by its own life, never by a discard, whoever
 * asks for it and however late (`discarded: false`, and the workflow goes on).
 */
export const discardUnrecorded = (order: NewOrder, now: string): Command<{ discarded: boolean }> => ({
  orderId: order.orderId,
  decide(current) {
    if (current) return unchanged({ discarded: current.tombstone });
    const tombstone = {
      ...newRecord(order, OrderStatus.Cancelled, now),
      ending: 'not-recorded' as const,
      tombstone: true,
    };
    return { result: { discarded: true }, insert: tombstone, events: [] };
  },
});
