import { ApplicationFailure, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { workflowStartSeconds } from '../metrics';
import {
  HoldExtensionLimitError,
  OrderNotActiveError,
  OrderNotFoundError,
  OrderRuleError,
  RetryLaterError,
} from '../orders/errors';
import type { NewOrder } from '../orders/order';
import type { OrderWorkflows } from '../orders/ports';
import type { orderWorkflow } from '../workflows/order.workflow';
import {
  extendHoldUpdate,
  ORDER_WORKFLOW_TYPE,
  orderCancelledSignal,
  orderWorkflowId,
  paymentReceivedSignal,
  SearchAttributes,
} from '../workflows/shared';

/**
 * The client side of order workflows: started and signalled by type name, so the API never
 * loads workflow code. Temporal's errors become the domain's here, and nowhere else.
 */
export function temporalOrderWorkflows(client: Pick<Client, 'workflow'>, taskQueue: string): OrderWorkflows {
  const handle = (orderId: string) => client.workflow.getHandle(orderWorkflowId(orderId));
  return {
    async start(order: NewOrder, { resume = false } = {}) {
      const timer = workflowStartSeconds.startTimer();
      try {
        await client.workflow.start<typeof orderWorkflow>(ORDER_WORKFLOW_TYPE, {
          taskQueue,
          workflowId: orderWorkflowId(order.orderId),
          args: [order],
          // A resumed plan keeps its running workflow, and starts again one that was discarded
          // (terminated); one that completed (expired) is never started twice.
          workflowIdReusePolicy: resume
            ? WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
            : WorkflowIdReusePolicy.REJECT_DUPLICATE,
          workflowIdConflictPolicy: resume ? WorkflowIdConflictPolicy.USE_EXISTING : WorkflowIdConflictPolicy.FAIL,
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
        });
      } catch (err) {
        // The start may have reached Temporal (a timeout under load): no order was recorded either way,
        // and a workflow that did start finds no order at its expiry and ends.
        throw new RetryLaterError(
          `Temporal did not confirm the order's workflow (${(err as Error).message}). Nothing was recorded; retrying is safe.`,
          { cause: err },
        );
      } finally {
        timer();
      }
    },
    async discard(orderId, reason) {
      await ifRunning(() => handle(orderId).terminate(`order not recorded: ${reason}`));
    },
    async notifyCancelled(orderId) {
      await ifRunning(() => handle(orderId).signal(orderCancelledSignal));
    },
    async extendHold(orderId) {
      try {
        await handle(orderId).executeUpdate(extendHoldUpdate);
      } catch (err) {
        throw extensionError(err);
      }
    },
    async signalPayment(payment) {
      return ifRunning(() => handle(payment.orderId).signal(paymentReceivedSignal, payment));
    },
  };
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
  return new RetryLaterError(`Temporal did not extend the hold (${(err as Error).message}); try again`, { cause: err });
}

const formatPrice = (price: number) => `$${price.toFixed(2)}`;
