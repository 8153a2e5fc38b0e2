import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { extensionRefusal, type Outcome } from '../orders/decisions';
import { OrderNotActiveError, type OrderRuleError } from '../orders/errors';
import {
  DEFAULT_EXPIRING_REMINDER_SECONDS,
  OrderStatus,
  type NewOrder,
  type OrderEnding,
  type Payment,
} from '../orders/order';
import { describeEnding, holding } from './details';
import {
  discardSignal,
  EXPIRING_REMINDER_PATCH,
  extendHoldUpdate,
  LOCAL_STEPS_PATCH,
  orderCancelledSignal,
  orderStateQuery,
  paymentReceivedSignal,
  SearchAttributes,
  type OrderState,
} from './shared';
import { orderSteps } from './steps';

/**
 * The life of one order. It holds the ticket until `expiresAt`; whichever comes first ends it:
 * a payment (complete), the user's DELETE (cancelled), or the deadline (expired, cancelled); or,
 * for an order the API never recorded, its discard (not-recorded).
 * Shortly before each deadline an order still active gets `order:expiring` (a reminder).
 * An extension (update `extendHold`) moves the deadline; the expiry never runs while one is in flight.
 * The database is the arbiter of every change, so a payment racing the deadline ends the order
 * one way only; a payment that loses is refused with `payment:rejected` so it can be refunded.
 */
export async function orderWorkflow(order: NewOrder): Promise<OrderState> {
  const state: OrderState = {
    orderId: order.orderId,
    status: OrderStatus.Created,
    expiresAt: order.expiresAt,
    rejectedPaymentIds: [],
  };
  const payments: Payment[] = [];
  const seenPaymentIds = new Set<string>();
  let cancelledByUser = false;
  let waiting = true; // until an ending starts: no extension after that
  let extending = false; // an extension's activity is in flight
  // Changes made while orders were in flight, each decided once, at the start, so that an order
  // never changes course midway (docs/changing-the-workflow.md): a workflow that started before the
  // local steps runs activity tasks (steps.ts), and one that started before the reminder sends none.
  // The local steps came after the reminder: a workflow with them has it, and records one marker, not two.
  const localSteps = patched(LOCAL_STEPS_PATCH);
  const reminderMs =
    localSteps || patched(EXPIRING_REMINDER_PATCH)
      ? (order.expiringReminderSeconds ?? DEFAULT_EXPIRING_REMINDER_SECONDS) * 1000
      : 0;
  const { expireOrder, completeOrder, rejectPayment, extendHold, remindExpiring, discardUnrecorded } =
    orderSteps(localSteps);

  setHandler(orderStateQuery, () => state);
  setHandler(paymentReceivedSignal, (payment) => {
    if (seenPaymentIds.has(payment.id)) return; // a redelivered event: already queued or handled
    seenPaymentIds.add(payment.id);
    payments.push(payment);
  });
  setHandler(orderCancelledSignal, () => {
    cancelledByUser = true;
  });
  let discarded = false; // the API could not record it, and the database holds no order of its id
  setHandler(discardSignal, async (reason) => {
    if (!waiting || discarded) return;
    discarded = (await discardUnrecorded(order)).discarded;
    if (discarded) state.discardReason = reason;
  });
  const refusal = (): OrderRuleError | undefined =>
    waiting
      ? extensionRefusal(
          {
            status: state.status,
            extensions: (state.extensions ?? 0) + (extending ? 1 : 0),
            expiresAt: state.expiresAt,
          },
          order.holdPolicy,
          Date.now(), // the workflow task's time: past the deadline when the timer fired unheard
        )
      : new OrderNotActiveError(state.status);
  setHandler(
    extendHoldUpdate,
    async () => {
      while (extending) await condition(() => !extending); // one at a time
      refuseIf(refusal());
      extending = true;
      try {
        const extension = (state.extensions ?? 0) + 1;
        const extended = await extendHold(order, extension, order.holdPolicy);
        Object.assign(state, { expiresAt: extended.expiresAt, extensions: extended.extensions });
        if (waiting) setCurrentDetails(holding(state.expiresAt, extension));
        return { ...state };
      } finally {
        extending = false;
      }
    },
    { validator: () => refuseIf(refusal()) },
  );

  const decided = () => payments.length > 0 || cancelledByUser || discarded;
  setCurrentDetails(holding(order.expiresAt, 0));
  // One durable timer per deadline: an extension moves the deadline, and the timer with it.
  for (;;) {
    const deadline = state.expiresAt;
    if (await reminderDue(deadline)) await remindExpiring(order, deadline);
    await condition(() => decided() || state.expiresAt !== deadline, msUntil(deadline), {
      summary: 'Hold the ticket until expiresAt',
    });
    if (extending) await condition(() => !extending || decided()); // it decides whether the deadline moves
    if (decided() || state.expiresAt === deadline) break;
  }
  waiting = false;

  if (discarded) {
    end({ status: OrderStatus.Cancelled, ending: 'not-recorded' }, 'not-recorded');
  } else if (!decided()) {
    // The current deadline: the expiry first waits for the payments published before it.
    end(await expireOrder({ ...order, expiresAt: state.expiresAt }), 'expired');
  } else if (payments.length > 0) {
    const payment = payments.shift()!;
    const outcome = await completeOrder(payment);
    if (outcome.accepted) state.paymentId = payment.id;
    else state.rejectedPaymentIds.push(payment.id);
    end(outcome, outcome.accepted ? 'paid' : 'cancelled-by-user');
  } else {
    end({ status: OrderStatus.Cancelled }, 'cancelled-by-user');
  }

  // Payments that reach the workflow after the order ended are refused, so that the payments
  // service refunds them; not the one that completed it, decided before its signal arrived.
  while (payments.length > 0) {
    const late = payments.shift()!;
    if (late.id === state.paymentId) continue;
    await rejectPayment(late, `order ${order.orderId} is already ${state.status}`);
    state.rejectedPaymentIds.push(late.id);
  }
  await condition(allHandlersFinished); // an extension racing a payment gets its answer
  return state;

  /**
   * Waits until `reminderMs` before `deadline`: true if the order is then still waiting on it. A
   * deadline nearer than that when it is set gets no reminder (a short window, or reminders off).
   */
  async function reminderDue(deadline: string): Promise<boolean> {
    const ms = Date.parse(deadline) - reminderMs - Date.now();
    if (reminderMs <= 0 || ms <= 0) return false;
    await condition(() => decided() || state.expiresAt !== deadline, ms, {
      summary: 'Hold the ticket until the reminder before expiresAt',
    });
    if (extending) await condition(() => !extending || decided()); // it may move the deadline
    return !decided() && state.expiresAt === deadline;
  }

  /** The database says how the order ended; `otherwise` is for histories from before it said so. */
  function end(outcome: Outcome, otherwise: OrderEnding): void {
    state.status = outcome.status;
    state.ending = outcome.status === OrderStatus.Complete ? 'paid' : (outcome.ending ?? otherwise);
    if (outcome.paymentId) state.paymentId = outcome.paymentId;
    upsertSearchAttributes([{ key: SearchAttributes.OrderStatus, value: outcome.status }]);
    setCurrentDetails(describeEnding(state));
  }
}

/** An update's refusal, with the domain error's name as its type (the API maps it back). */
function refuseIf(refusal: OrderRuleError | undefined): void {
  if (refusal) throw ApplicationFailure.nonRetryable(refusal.message, refusal.name);
}

function msUntil(isoTime: string): number {
  // Date.now() is deterministic inside a workflow: it is the time of the current workflow task.
  // At least 1 ms: a deadline already past (the worker was down all window) still times out at once.
  return Math.max(1, Date.parse(isoTime) - Date.now());
}
