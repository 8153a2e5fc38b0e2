/**
 * The course's sibling services, as far as they meet this one, written as the course writes them:
 * subclasses of the course author's own `Listener` and `Publisher` (`@sgtickets/common`, unmodified,
 * its `node-nats-streaming` overridden to `nats-streaming-jetstream`), with their rules kept and
 * their databases reduced to maps. The payments service's `version - 1` lookup is kept exactly: a
 * miss is not acked, so the message comes back after `ackWait`, as in the course.
 */
import {
  Listener,
  OrderStatus,
  Publisher,
  Subjects,
  type OrderCancelledEvent,
  type OrderCreatedEvent,
  type PaymentCreatedEvent,
  type TicketCreatedEvent,
} from '@sgtickets/common';
import type { Message, Stan } from 'node-nats-streaming';

export class TicketCreatedPublisher extends Publisher<TicketCreatedEvent> {
  subject: Subjects.TicketCreated = Subjects.TicketCreated;
}

export class PaymentCreatedPublisher extends Publisher<PaymentCreatedEvent> {
  subject: Subjects.PaymentCreated = Subjects.PaymentCreated;
}

/** The tickets service: a ticket carries the id of the order that reserves it, cleared on cancel. */
export class TicketsService {
  readonly orderOf = new Map<string, string | undefined>();

  constructor(stan: Stan) {
    const orderOf = this.orderOf;
    new (class extends Listener<OrderCreatedEvent> {
      subject: Subjects.OrderCreated = Subjects.OrderCreated;
      queueGroupName = 'tickets-service';
      onMessage(data: OrderCreatedEvent['data'], msg: Message) {
        orderOf.set(data.ticket.id, data.id);
        msg.ack();
      }
    })(stan).listen();
    new (class extends Listener<OrderCancelledEvent> {
      subject: Subjects.OrderCancelled = Subjects.OrderCancelled;
      queueGroupName = 'tickets-service';
      onMessage(data: OrderCancelledEvent['data'], msg: Message) {
        orderOf.set(data.ticket.id, undefined);
        msg.ack();
      }
    })(stan).listen();
  }
}

interface PaymentsCopy {
  id: string;
  version: number;
  status: OrderStatus;
  userId: string;
  price: number;
}

/** The payments service: its own copy of each order, which `order:cancelled` updates only at `version - 1`. */
export class PaymentsService {
  readonly orders = new Map<string, PaymentsCopy>();
  /** Every `order:cancelled` whose `version - 1` lookup found no copy: the course's service never acks it. */
  readonly misses: Array<OrderCancelledEvent['data']> = [];

  constructor(stan: Stan) {
    const { orders, misses } = this;
    new (class extends Listener<OrderCreatedEvent> {
      subject: Subjects.OrderCreated = Subjects.OrderCreated;
      queueGroupName = 'payments-service';
      onMessage(data: OrderCreatedEvent['data'], msg: Message) {
        const { id, version, status, userId } = data;
        orders.set(id, { id, version, status, userId, price: data.ticket.price });
        msg.ack();
      }
    })(stan).listen();
    new (class extends Listener<OrderCancelledEvent> {
      subject: Subjects.OrderCancelled = Subjects.OrderCancelled;
      queueGroupName = 'payments-service';
      onMessage(data: OrderCancelledEvent['data'], msg: Message) {
        const copy = orders.get(data.id);
        if (!copy || copy.version !== data.version - 1) {
          misses.push(data); // the course throws 'Order not found' here, and never acks
          return;
        }
        // mongoose-update-if-current: the save moves the copy to the event's version
        orders.set(data.id, { ...copy, status: OrderStatus.Cancelled, version: data.version });
        msg.ack();
      }
    })(stan).listen();
  }
}
