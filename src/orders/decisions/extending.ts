import { HoldExtensionLimitError, OrderNotActiveError, OrderNotFoundError, type OrderRuleError } from '../errors';
import { orderUpdated } from '../events';
import { isActive, type HoldPolicy, type NewOrder, type OrderStatus } from '../order';
import { prolong } from '../transitions';
import { unchanged, type Command } from './change';

/**
 * Why the hold of an order cannot be extended now, or undefined when it can: the one rule, used by
 * the workflow's update validator and by the database's decision. No policy (a workflow started
 * before extensions existed) allows none.
 */
export function extensionRefusal(
  order: { status: OrderStatus; extensions: number },
  policy: HoldPolicy | undefined,
): OrderRuleError | undefined {
  if (!isActive(order.status)) return new OrderNotActiveError(order.status);
  const max = policy?.maxExtensions ?? 0;
  if (order.extensions >= max) return new HoldExtensionLimitError(max);
  return undefined;
}

export interface Extended {
  expiresAt: string;
  version: number;
  extensions: number;
}

/**
 * The holder gets more time: `expiresAt` moves by the policy's step from the current deadline,
 * version + 1, with `order:updated`. `extension` is the 1-based number the workflow asks for, so a
 * retried activity whose first attempt committed finds it applied and changes nothing.
 */
export const extendHold = (
  order: Pick<NewOrder, 'orderId' | 'ticket'>,
  extension: number,
  policy: HoldPolicy | undefined,
): Command<Extended> => ({
  orderId: order.orderId,
  decide(current) {
    if (!current || current.tombstone) throw new OrderNotFoundError();
    const { expiresAt, version, extensions } = current;
    if (extensions >= extension) return unchanged({ expiresAt, version, extensions });
    const refusal = extensionRefusal(current, policy);
    if (refusal) throw refusal;
    const moved = new Date(Date.parse(expiresAt) + policy!.extensionSeconds * 1000).toISOString();
    const update = prolong(current, moved);
    return {
      result: { expiresAt: moved, version: update.version, extensions: extensions + 1 },
      update,
      events: [orderUpdated(current, update, order.ticket.price)],
    };
  },
});
