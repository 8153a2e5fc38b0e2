import {
  HoldExtensionLimitError,
  HoldLapsedError,
  OrderNotActiveError,
  OrderNotFoundError,
  type OrderRuleError,
} from '../errors';
import { orderUpdated } from '../events';
import { isActive, type HoldPolicy, type NewOrder, type OrderStatus } from '../order';
import { prolong } from '../transitions';
import { unchanged, type Command } from './change';

/**
 * Why the hold of an order cannot be extended at `nowMs`, or undefined when it can: the one rule,
 * used by the workflow's update validator (in Temporal's time) and by the database's decision (in
 * the worker's). A deadline that has passed stays passed, however late the workflow hears of it. No
 * policy (a workflow started before extensions existed) allows none.
 */
export function extensionRefusal(
  order: { status: OrderStatus; extensions: number; expiresAt: string },
  policy: HoldPolicy | undefined,
  nowMs: number,
): OrderRuleError | undefined {
  if (!isActive(order.status)) return new OrderNotActiveError(order.status);
  if (nowMs >= Date.parse(order.expiresAt)) return new HoldLapsedError(order.expiresAt);
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
  now: string,
): Command<Extended> => ({
  orderId: order.orderId,
  decide(current) {
    if (!current || current.tombstone) throw new OrderNotFoundError();
    const { expiresAt, version, extensions } = current;
    if (extensions >= extension) return unchanged({ expiresAt, version, extensions });
    const refusal = extensionRefusal(current, policy, Date.parse(now));
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
