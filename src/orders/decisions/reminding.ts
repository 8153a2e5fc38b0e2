import { orderExpiring } from '../events';
import { isActive } from '../order';
import { unchanged, type Command } from './change';

/**
 * The deadline is near: `order:expiring`, if the order still holds its ticket until that very
 * deadline. Nothing when it has ended (a payment the workflow has not heard of yet), when its
 * deadline has moved since (an extension: the new deadline gets its own reminder), or when the
 * deadline has passed (a reminder retried through an outage is too late). Nothing changes but the event.
 */
export const remindExpiring = (orderId: string, deadline: string, now: string): Command<{ reminded: boolean }> => ({
  orderId,
  decide(current) {
    const due =
      current &&
      !current.tombstone &&
      isActive(current.status) &&
      Date.parse(current.expiresAt) === Date.parse(deadline) &&
      Date.parse(now) < Date.parse(deadline);
    if (!due) return unchanged({ reminded: false });
    return { result: { reminded: true }, events: [orderExpiring(current)] };
  },
});
