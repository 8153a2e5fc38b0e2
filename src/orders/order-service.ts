import { ObjectId } from 'bson';
import { BadRequestError, NotAuthorizedError, NotFoundError, TicketAlreadyReservedError } from '../errors';
import type { Logger } from '../logger';
import { ordersCreated } from '../metrics';
import type { OrderStore } from '../store/order-store';
import type { OrderWorkflowInput } from '../workflows/shared';
import { OrderStatus, type Order } from './order';

/** The Temporal side of an order, as the API needs it (implemented in api/order-workflows.ts). */
export interface OrderWorkflows {
  /** Starts the order's workflow; it will end the order whatever happens next. */
  start(input: OrderWorkflowInput): Promise<void>;
  /** Ends a workflow whose order was never recorded (the ticket was taken meanwhile). */
  discard(orderId: string, reason: string): Promise<void>;
  /** Tells the workflow the user cancelled the order, so it stops waiting. */
  notifyCancelled(orderId: string): Promise<void>;
}

export interface OrderServiceDeps {
  store: OrderStore;
  workflows: OrderWorkflows;
  expirationSeconds: number;
  logger: Logger;
  now?: () => Date;
}

/** The order use cases behind the REST routes. */
export class OrderService {
  private readonly now: () => Date;
  constructor(private readonly deps: OrderServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Invariant 1, "no order without the workflow that ends it", by ordering: the workflow starts
   * first (one round trip), then the order row and its `order:created` are written in one
   * transaction. A crash between the two leaves a workflow whose expiry finds no order and
   * ends harmlessly; the reverse (an order without a workflow) cannot happen.
   */
  async placeOrder(userId: string, ticketId: string): Promise<Order> {
    const { store, workflows, logger } = this.deps;
    const found = await store.findTicketForOrder(ticketId);
    if (!found) throw new NotFoundError('Ticket not found');
    // A fast, friendly refusal; the database's unique index is what actually guarantees it.
    if (found.reserved) throw new TicketAlreadyReservedError();
    const { ticket } = found;

    const now = this.now();
    const input: OrderWorkflowInput = {
      orderId: new ObjectId().toHexString(),
      userId,
      ticket: { id: ticket.id, title: ticket.title, price: ticket.price },
      expiresAt: new Date(now.getTime() + this.deps.expirationSeconds * 1000).toISOString(),
    };
    await workflows.start(input);
    try {
      const order = await store.createOrder(input, now.toISOString(), ticket.version);
      ordersCreated.inc();
      logger.info({ orderId: order.id, ticketId, userId, expiresAt: order.expiresAt }, 'order created');
      return order;
    } catch (err) {
      await workflows
        .discard(input.orderId, String((err as Error).message))
        .catch((e: unknown) =>
          logger.warn({ err: e, orderId: input.orderId }, 'could not end the unused workflow; its expiry will end it'),
        );
      throw err;
    }
  }

  async listOrders(userId: string): Promise<Order[]> {
    return this.deps.store.listOrders(userId);
  }

  async getOrder(userId: string, orderId: string): Promise<Order> {
    const order = await this.deps.store.findOrder(orderId);
    if (!order) throw new NotFoundError('Order not found');
    if (order.userId !== userId) throw new NotAuthorizedError();
    return order;
  }

  /** DELETE: the database cancels the order (and queues `order:cancelled`), then the workflow is told. */
  async cancelOrder(userId: string, orderId: string): Promise<Order> {
    const order = await this.getOrder(userId, orderId);
    if (order.status === OrderStatus.Complete) throw new BadRequestError('Cannot cancel an order that is complete');
    const cancelled = await this.deps.store.cancelOrder(orderId);
    if (!cancelled || cancelled.status === OrderStatus.Complete) {
      throw new BadRequestError('Cannot cancel an order that is complete');
    }
    await this.deps.workflows.notifyCancelled(orderId).catch((err: unknown) =>
      // Not fatal: the order is already cancelled; the workflow's expiry finds it so and ends.
      this.deps.logger.warn({ err, orderId }, 'could not signal the workflow; it will end at expiry'),
    );
    this.deps.logger.info({ orderId, userId }, 'order cancelled by the user');
    return cancelled;
  }
}
