import { ObjectId } from 'bson';
import { cancelByUser, checkHoldLimit, place } from './decisions';
import {
  NotOrderOwnerError,
  OrderNotActiveError,
  OrderCompleteError,
  OrderNotFoundError,
  OrderRuleError,
  RetryLaterError,
  TicketAlreadyReservedError,
  TicketNotFoundError,
} from './errors';
import { isActive, OrderStatus, type HoldPolicy, type NewOrder, type Order, type OrderPlan } from './order';
import type { AttemptFence, Log, OrderRepository, OrderWorkflows, TicketLookup } from './ports';

export interface OrderServiceDeps {
  orders: OrderRepository;
  tickets: TicketLookup;
  workflows: OrderWorkflows;
  expirationSeconds: number;
  /** The hold limit: at most this many active orders per user. */
  maxActiveOrdersPerUser: number;
  /** Fixed in each new order (its workflow's input): how often and how far its hold may be extended. */
  holdPolicy: HoldPolicy;
  /** Fixed in each new order (its workflow's input): `order:expiring` this long before its deadline (0: none). */
  expiringReminderSeconds: number;
  logger: Log;
  now?: () => Date;
}

/** The order use cases behind the REST routes. */
export class OrderService {
  private readonly now: () => Date;
  constructor(private readonly deps: OrderServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** A new order's id and deadline, decided before it is placed (an idempotent request keeps them). */
  planOrder(): OrderPlan {
    return {
      orderId: new ObjectId().toHexString(),
      expiresAt: new Date(this.now().getTime() + this.deps.expirationSeconds * 1000).toISOString(),
    };
  }

  /**
   * Invariant 1, "no order without the workflow that ends it", by ordering: the workflow starts
   * first (one round trip), then the order and its `order:created` are recorded in one
   * transaction. A crash between the two leaves a workflow whose expiry finds no order and
   * ends harmlessly; the reverse (an order without a workflow) cannot happen.
   * `fence`: an Idempotency-Key's attempt, which records the order only while it holds its key.
   */
  async placeOrder(
    userId: string,
    ticketId: string,
    { plan = this.planOrder(), fence }: { plan?: OrderPlan; fence?: AttemptFence } = {},
  ): Promise<Order> {
    const { orders, tickets, workflows, logger, maxActiveOrdersPerUser } = this.deps;
    const found = await tickets.findForOrder(ticketId, userId);
    if (!found) throw new TicketNotFoundError();
    // Fast, friendly refusals before a workflow starts; the database enforces both again atomically.
    if (found.reserved) throw new TicketAlreadyReservedError();
    checkHoldLimit(found.holds, maxActiveOrdersPerUser);
    const { ticket } = found;

    const order: NewOrder = {
      orderId: plan.orderId,
      userId,
      ticket: { id: ticket.id, title: ticket.title, price: ticket.price },
      expiresAt: plan.expiresAt,
      holdPolicy: this.deps.holdPolicy,
      expiringReminderSeconds: this.deps.expiringReminderSeconds,
    };
    await workflows.start(order);
    let placed: Order;
    try {
      const placing = place(order, this.now().toISOString(), ticket.version, maxActiveOrdersPerUser);
      placed = await orders.record(placing, fence);
    } catch (err) {
      throw await this.unrecorded(order.orderId, err);
    }
    logger.info({ orderId: placed.id, ticketId, userId, expiresAt: placed.expiresAt }, 'order created');
    return placed;
  }

  /**
   * After its workflow started, the order could not be recorded. Only a rule's definite refusal
   * (the ticket's unique index, the hold limit, a retry that took the request over) lets the new
   * workflow go at once. Any other failure may have committed (a connection lost after the
   * commit): then the order exists and only its workflow will end it, so the workflow stays and its
   * expiry decides (it leaves a tombstone if there was no order).
   */
  private async unrecorded(orderId: string, err: unknown): Promise<unknown> {
    if (err instanceof OrderRuleError) {
      await this.discardPlan(orderId, err.message);
      return err;
    }
    if (err instanceof RetryLaterError) return err; // nothing was recorded, and the workflow has ended
    this.deps.logger.warn({ err, orderId }, 'order outcome unknown; its workflow stays and its expiry decides');
    return new RetryLaterError(
      'The order may or may not have been recorded. Retrying is safe: ' +
        'if it was recorded, it holds the ticket and is listed by GET /api/orders; if not, nothing holds it.',
      { cause: err },
    );
  }

  /**
   * Ends the workflow of a plan that recorded no order: one refused, or one whose attempt stalled
   * and was taken over. The workflow itself checks that no order with the id exists.
   */
  async discardPlan(orderId: string, reason: string): Promise<void> {
    await this.deps.workflows
      .discard(orderId, reason)
      .catch((err: unknown) =>
        this.deps.logger.warn({ err, orderId }, 'could not end the unused workflow; its expiry will end it'),
      );
  }

  async listOrders(userId: string): Promise<Order[]> {
    return this.deps.orders.listByUser(userId);
  }

  async getOrder(userId: string, orderId: string): Promise<Order> {
    const order = await this.deps.orders.find(orderId);
    if (!order) throw new OrderNotFoundError();
    if (order.userId !== userId) throw new NotOrderOwnerError();
    return order;
  }

  /**
   * POST …/extend: the order's workflow decides (its validator: active, under the limit of the
   * policy the order was placed with), moves the deadline in the database and its timer. The
   * answer is the order as recorded after it. With an `idempotencyKey`, the same request again
   * (a retry after a lost answer) is the same extension: once, and its outcome again.
   */
  async extendHold(userId: string, orderId: string, idempotencyKey?: string): Promise<Order> {
    const order = await this.getOrder(userId, orderId);
    // A fast refusal; the workflow and the database decide (a payment may be racing this).
    if (!isActive(order.status)) throw new OrderNotActiveError(order.status);
    await this.deps.workflows.extendHold(
      orderId,
      idempotencyKey === undefined ? undefined : { userId, idempotencyKey },
    );
    const extended = await this.deps.orders.find(orderId);
    if (!extended) throw new OrderNotFoundError();
    this.deps.logger.info({ orderId, userId, expiresAt: extended.expiresAt }, 'order hold extended');
    return extended;
  }

  /** DELETE: the database cancels the order (and queues `order:cancelled`), then the workflow is told. */
  async cancelOrder(userId: string, orderId: string): Promise<void> {
    const order = await this.getOrder(userId, orderId);
    if (order.status === OrderStatus.Complete) throw new OrderCompleteError();
    const { status } = await this.deps.orders.apply(cancelByUser(orderId));
    // A payment may have completed it since it was read: the database decided, and it stays complete.
    if (status === OrderStatus.Complete) throw new OrderCompleteError();
    await this.deps.workflows.notifyCancelled(orderId).catch((err: unknown) =>
      // Not fatal: the order is already cancelled; the workflow's expiry finds it so and ends.
      this.deps.logger.warn({ err, orderId }, 'could not signal the workflow; it will end at expiry'),
    );
    this.deps.logger.info({ orderId, userId }, 'order cancelled by the user');
  }
}
