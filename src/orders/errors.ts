/**
 * The domain's errors. They say what went wrong for the order, never how a transport shows it:
 * the API maps them to HTTP statuses in one place (api/error-handler.ts).
 */

/** A rule of the order refused the request; retrying the same request cannot succeed. */
export abstract class OrderRuleError extends Error {}

export class TicketNotFoundError extends OrderRuleError {
  override name = 'TicketNotFoundError';
  constructor() {
    super('Ticket not found');
  }
}

export class OrderNotFoundError extends OrderRuleError {
  override name = 'OrderNotFoundError';
  constructor() {
    super('Order not found');
  }
}

/** Invariant 6: one user never reads or changes another user's order. */
export class NotOrderOwnerError extends OrderRuleError {
  override name = 'NotOrderOwnerError';
  constructor() {
    super('The order belongs to another user');
  }
}

/** Invariant 3: at most one active order per ticket. */
export class TicketAlreadyReservedError extends OrderRuleError {
  override name = 'TicketAlreadyReservedError';
  constructor() {
    super('Ticket is already reserved');
  }
}

export class OrderCompleteError extends OrderRuleError {
  override name = 'OrderCompleteError';
  constructor() {
    super('Cannot cancel an order that is complete');
  }
}

/** A change the state machine does not allow (a bug if it escapes: callers check the status first). */
export class InvalidTransitionError extends OrderRuleError {
  override name = 'InvalidTransitionError';
  constructor(orderId: string, from: string, to: string) {
    super(`order ${orderId} cannot go from ${from} to ${to}`);
  }
}

/** Nothing was changed, and the same request may succeed later: a dependency is down, busy or raced. */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
}

/** Another writer changed the order between our read and our write; a retry re-reads it. */
export class ConcurrentChangeError extends RetryLaterError {
  override name = 'ConcurrentChangeError';
  constructor(orderId: string) {
    super(`order ${orderId} changed concurrently; retry`);
  }
}

/** The order's id is taken by an expiry tombstone: the API stalled past the whole window before recording it. */
export class OrderExpiredBeforeRecordedError extends RetryLaterError {
  override name = 'OrderExpiredBeforeRecordedError';
  constructor() {
    super('The order expired before it was recorded; try again');
  }
}
