import type { Change, Command } from './decisions';
import type { ActiveHolds, NewOrder, Order, Payment, Ticket } from './order';

/** The logging the use cases need (pino's logger is one): the domain depends on no logging library. */
export interface Log {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** What the domain needs from persistence; store/ implements it and applies each change in one transaction. */
export interface OrderRepository {
  find(orderId: string): Promise<Order | undefined>;
  /** The user's orders, each with its ticket, oldest first. */
  listByUser(userId: string): Promise<Order[]>;
  /**
   * Writes a decided change (no read): a new order, or events alone. With a `fence`, only while the
   * attempt still holds its Idempotency-Key, whose answer (the order) is stored in the same
   * transaction; AttemptSupersededError when a retry has taken the key over.
   */
  record<R>(change: Change<R>, fence?: AttemptFence): Promise<R>;
  /** Reads the order, lets the command decide, and writes what it decided, in one transaction. */
  apply<R>(command: Command<R>): Promise<R>;
}

export interface TicketLookup {
  /** What placing an order checks first, in one query (the API's hot path); undefined for an unknown ticket. */
  findForOrder(ticketId: string, userId: string): Promise<TicketForOrder | undefined>;
}

export interface TicketForOrder {
  ticket: Ticket;
  /** An order holds the ticket, or bought it. */
  reserved: boolean;
  /** The user's active holds (the hold limit's count). */
  holds: ActiveHolds;
}

/**
 * One attempt at an Idempotency-Key's request (api/idempotency.ts): its user's key and the lease it
 * holds. A retry that takes the key over gets a lease (and an order id) of its own, so a stalled
 * attempt that wakes up later records nothing and can discard only its own order's workflow.
 */
export interface AttemptFence {
  userId: string;
  key: string;
  /** The key's `lockedUntil` as this attempt set it: the fencing token. */
  lease: string;
}

/** Who asks for an extension, and the Idempotency-Key that makes their retries one extension. */
export interface ExtensionRequest {
  userId: string;
  idempotencyKey: string;
}

/** The Temporal side of an order (temporal/order-workflows.ts implements it). */
export interface OrderWorkflows {
  /** Starts the order's workflow, once per order id; it will end the order whatever happens next. */
  start(order: NewOrder): Promise<void>;
  /**
   * Asks the workflow of an order that was not recorded (a rule refused it, a retry took its request
   * over) to end. It ends only if no order with its id exists (decisions/discarding.ts).
   */
  discard(orderId: string, reason: string): Promise<void>;
  /** Tells the workflow the user cancelled the order, so it stops waiting. */
  notifyCancelled(orderId: string): Promise<void>;
  /**
   * Asks the order's workflow for more time (a Temporal update): it moves the deadline in the
   * database and its timer. Refused with OrderNotActiveError (ending or ended) or
   * HoldExtensionLimitError; RetryLaterError when Temporal cannot answer now. With a `request`,
   * the same request again (a client's retry) extends once and gets the first outcome.
   */
  extendHold(orderId: string, request?: ExtensionRequest): Promise<void>;
  /** Hands a payment to the order's workflow; false when the workflow has already ended. */
  signalPayment(payment: Payment): Promise<boolean>;
}

/**
 * The payments consumer's progress on the bus (events/payments-progress.ts implements it). An
 * expiry waits until every payment published before the order's deadline has been decided, so a
 * payment made in time wins even when the process that consumes payments was down (invariant 7).
 */
export interface PaymentsProgress {
  /**
   * True once every payment published at or before `deadline` has been decided, judged in the
   * stream's clock: false until the stream's own clock has passed the deadline, whatever ours says.
   */
  consumedUntil(deadline: string): Promise<boolean>;
}
