import { isActive, type OrderStatus } from './order';

/**
 * The domain's errors. They say what went wrong for the order, never how a transport shows it:
 * the API maps them to HTTP statuses in one place (api/error-handler.ts), and an activity that meets
 * a rule's refusal fails for good instead of retrying. Each is named after its class, for the logs.
 */

/** A rule of the order refused the request; retrying the same request cannot succeed. */
export abstract class OrderRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class TicketNotFoundError extends OrderRuleError {
  constructor() {
    super('Ticket not found');
  }
}

export class OrderNotFoundError extends OrderRuleError {
  constructor() {
    super('Order not found');
  }
}

/** Invariant 6: one user never reads or changes another user's order. */
export class NotOrderOwnerError extends OrderRuleError {
  constructor() {
    super('The order belongs to another user');
  }
}

/** Invariant 3: at most one active order per ticket. */
export class TicketAlreadyReservedError extends OrderRuleError {
  constructor() {
    super('Ticket is already reserved');
  }
}

/**
 * A user may hold at most `max` active orders at once (reservation hoarding, OWASP API6). `until`
 * is when the earliest of them ends at the latest: a slot is free by then.
 */
export class HoldLimitReachedError extends OrderRuleError {
  constructor(
    readonly max: number,
    readonly until?: string,
  ) {
    super(
      `You already hold ${max} active order${max === 1 ? '' : 's'}, the most one user may hold at once: ` +
        'pay for or cancel one of them first',
    );
  }
}

export class OrderCompleteError extends OrderRuleError {
  constructor() {
    super('Cannot cancel an order that is complete');
  }
}

/** The order has ended, or is ending: its hold can no longer be extended. */
export class OrderNotActiveError extends OrderRuleError {
  constructor(status?: OrderStatus) {
    super(
      status && !isActive(status)
        ? `Order is already ${status}`
        : 'Order is ending: its hold can no longer be extended',
    );
  }
}

/**
 * The order's deadline has passed: it is expiring, even if its workflow has not acted yet (a worker
 * that was down or behind). Payments published since were judged late, so the hold cannot come back.
 */
export class HoldLapsedError extends OrderRuleError {
  constructor(expiresAt: string) {
    super(`The hold lapsed at ${expiresAt}: the order is expiring and can no longer be extended`);
  }
}

/** The order's hold was extended as many times as its policy allows. */
export class HoldExtensionLimitError extends OrderRuleError {
  constructor(maxExtensions: number) {
    super(
      maxExtensions === 0
        ? 'The hold of this order cannot be extended'
        : `The hold of an order can be extended at most ${maxExtensions} time${maxExtensions === 1 ? '' : 's'}`,
    );
  }
}

/**
 * A retry with the same Idempotency-Key took this request over while it stalled (its lease ran out):
 * the request records nothing, so the key makes one order whatever the stalled attempt does next.
 */
export class AttemptSupersededError extends OrderRuleError {
  constructor() {
    super('A retry with the same Idempotency-Key took this request over; the retry has the answer');
  }
}

/** A change the state machine does not allow (a bug if it escapes: callers check the status first). */
export class InvalidTransitionError extends OrderRuleError {
  constructor(orderId: string, from: string, to: string) {
    super(`order ${orderId} cannot go from ${from} to ${to}`);
  }
}

/**
 * Nothing was changed, and the same request may succeed later: a dependency is down, busy or raced.
 * Its message is the service's own words, which clients get as they are: it never quotes its cause
 * (a dependency's error can name hosts, addresses, users or credentials). The cause rides along for
 * the log, where pino's error serializer appends its message and stack.
 */
export class RetryLaterError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Another writer changed the order between our read and our write; a retry re-reads it. */
export class ConcurrentChangeError extends RetryLaterError {
  constructor(orderId: string) {
    super(`order ${orderId} changed concurrently; retry`);
  }
}

/** The order's id is taken by an expiry tombstone: the API stalled past the whole window before recording it. */
export class OrderExpiredBeforeRecordedError extends RetryLaterError {
  constructor() {
    super('The order expired before it was recorded; try again');
  }
}
