import { createHash } from 'node:crypto';
import { ApplicationFailure, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { DEFAULT_TEMPORAL_CALL_TIMEOUT_MS } from '../config';
import { workflowStartSeconds } from '../metrics';
import {
  HoldExtensionLimitError,
  HoldLapsedError,
  OrderNotActiveError,
  OrderNotFoundError,
  OrderRuleError,
  RetryLaterError,
} from '../orders/errors';
import type { NewOrder } from '../orders/order';
import type { ExtensionRequest, OrderWorkflows } from '../orders/ports';
import type { orderWorkflow } from '../workflows/order.workflow';
import {
  discardSignal,
  extendHoldUpdate,
  ORDER_WORKFLOW_TYPE,
  orderCancelledSignal,
  orderWorkflowId,
  paymentReceivedSignal,
  SearchAttributes,
} from '../workflows/shared';

/**
 * The client side of order workflows: started and signalled by type name, so the API never
 * loads workflow code. Temporal's errors become the domain's here, and nowhere else. Every call
 * ends by `callTimeoutMs` (TEMPORAL_CALL_TIMEOUT_MS): an outage is a RetryLaterError, never a hang.
 */
export function temporalOrderWorkflows(
  client: Pick<Client, 'workflow' | 'withDeadline'>,
  taskQueue: string,
  { callTimeoutMs = DEFAULT_TEMPORAL_CALL_TIMEOUT_MS }: { callTimeoutMs?: number } = {},
): OrderWorkflows {
  const handle = (orderId: string) => client.workflow.getHandle(orderWorkflowId(orderId));
  const within = <T>(call: () => Promise<T>) => withinDeadline(client, callTimeoutMs, call);
  return {
    async start(order: NewOrder) {
      const timer = workflowStartSeconds.startTimer();
      try {
        await within(() =>
          client.workflow.start<typeof orderWorkflow>(ORDER_WORKFLOW_TYPE, {
            taskQueue,
            workflowId: orderWorkflowId(order.orderId),
            args: [order],
            // One workflow per order id, ever: a retried request places a plan (an id) of its own.
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
            typedSearchAttributes: [
              { key: SearchAttributes.OrderId, value: order.orderId },
              { key: SearchAttributes.UserId, value: order.userId },
              { key: SearchAttributes.TicketId, value: order.ticket.id },
              { key: SearchAttributes.OrderStatus, value: 'created' },
            ],
            staticSummary: `Order for "${order.ticket.title}" (${formatPrice(order.ticket.price)}), held until ${order.expiresAt}`,
            staticDetails: [
              `**Order** ${order.orderId}`,
              `**User** ${order.userId}`,
              `**Ticket** ${order.ticket.title} (id ${order.ticket.id}), price ${formatPrice(order.ticket.price)}`,
              `**Expires at** ${order.expiresAt} (as placed; an extension moves it: see Current Details)`,
            ].join('\n\n'),
          }),
        );
      } catch (err) {
        // The start may have reached Temporal (a timeout under load): no order was recorded either way,
        // and a workflow that did start finds no order at its expiry and ends.
        const why = err instanceof CallTimeoutError ? ` within ${err.within}` : '';
        throw new RetryLaterError(
          `Temporal did not confirm the order's workflow${why}. Nothing was recorded; retrying is safe.`,
          { cause: err },
        );
      } finally {
        timer();
      }
    },
    async discard(orderId, reason) {
      await ifRunning(() => within(() => handle(orderId).signal(discardSignal, reason)));
    },
    async notifyCancelled(orderId) {
      await ifRunning(() => within(() => handle(orderId).signal(orderCancelledSignal)));
    },
    async extendHold(orderId, request) {
      // With an Idempotency-Key, a retry names the same update: Temporal runs it once and answers it again.
      const options = request ? { updateId: extensionUpdateId(orderId, request) } : {};
      try {
        await within(() => handle(orderId).executeUpdate(extendHoldUpdate, options));
      } catch (err) {
        throw extensionError(err);
      }
    },
    async signalPayment(payment) {
      return ifRunning(() => within(() => handle(payment.orderId).signal(paymentReceivedSignal, payment)));
    },
  };
}

/**
 * The update id of an extension asked with an Idempotency-Key: the same order, user and key, the same
 * id; Temporal runs an update id once per workflow, and answers a retry with the first outcome.
 */
export const extensionUpdateId = (orderId: string, { userId, idempotencyKey }: ExtensionRequest): string =>
  `extend-${createHash('sha256')
    .update(JSON.stringify([orderId, userId, idempotencyKey]))
    .digest('base64url')}`;

/** Temporal did not answer within the call's deadline; the call may still take effect. */
class CallTimeoutError extends RetryLaterError {
  constructor(
    readonly within: string,
    options?: ErrorOptions,
  ) {
    super(`No answer from Temporal within ${within} (TEMPORAL_CALL_TIMEOUT_MS)`, options);
  }
}

/**
 * One call within `timeoutMs`. The SDK's deadline ends a call that waits for an answer (every RPC
 * of it: an update's polls too); the timer also ends one that the native client's retries keep
 * going past it (a refused connection is retried for seconds), and the API answers at the deadline.
 */
async function withinDeadline<T>(
  client: Pick<Client, 'withDeadline'>,
  timeoutMs: number,
  call: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const within = `${timeoutMs / 1000} s`;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CallTimeoutError(within)), timeoutMs);
  });
  try {
    return await Promise.race([client.withDeadline(deadline, call), late]);
  } catch (err) {
    // Past the deadline, anything but an answer (a workflow that ended, an update refused) is the SDK's deadline.
    const answered = err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError;
    if (err instanceof CallTimeoutError || answered || Date.now() < deadline) throw err;
    throw new CallTimeoutError(within, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/** False when the workflow has already ended: there is nothing left to tell or end. */
async function ifRunning(call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

const REFUSALS: Record<string, () => OrderRuleError> = {
  HoldExtensionLimitError: () => new HoldExtensionLimitError(0),
  HoldLapsedError: () => new HoldLapsedError(''),
  OrderNotActiveError: () => new OrderNotActiveError(),
  OrderNotFoundError: () => new OrderNotFoundError(),
};

/**
 * An extension's failure as the domain's error: the validator's or the activity's refusal carries
 * the domain error's name as its failure type; a workflow that is not running has ended.
 */
function extensionError(err: unknown): Error {
  if (err instanceof WorkflowNotFoundError) return new OrderNotActiveError();
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    const refusal = e instanceof ApplicationFailure && e.type ? REFUSALS[e.type]?.() : undefined;
    // The workflow's words (they may name the limit or the status): the same class, its message.
    if (refusal) return Object.assign(refusal, { message: e.message });
  }
  if (err instanceof CallTimeoutError) {
    return new RetryLaterError(
      `Temporal did not answer within ${err.within}: the hold may still be extended. Retry with the same ` +
        'Idempotency-Key to get its outcome without extending it twice',
      { cause: err },
    );
  }
  return new RetryLaterError('Temporal did not extend the hold; try again', { cause: err });
}

const formatPrice = (price: number) => `$${price.toFixed(2)}`;
