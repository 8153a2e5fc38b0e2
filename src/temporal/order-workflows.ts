import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { OrderWorkflows } from '../orders/order-service';
import type { orderWorkflow } from '../workflows/order.workflow';
import {
  ORDER_WORKFLOW_TYPE,
  orderCancelledSignal,
  orderWorkflowId,
  SearchAttributes,
  type OrderWorkflowInput,
} from '../workflows/shared';
import { ServiceUnavailableError } from '../errors';
import { workflowStartSeconds } from '../metrics';

/** Starts and signals order workflows by type name, so the API never loads workflow code. */
export function temporalOrderWorkflows(client: Client, taskQueue: string): OrderWorkflows {
  return {
    async start(input: OrderWorkflowInput) {
      const timer = workflowStartSeconds.startTimer();
      try {
        await client.workflow.start<typeof orderWorkflow>(ORDER_WORKFLOW_TYPE, {
          taskQueue,
          workflowId: orderWorkflowId(input.orderId),
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          typedSearchAttributes: [
            { key: SearchAttributes.OrderId, value: input.orderId },
            { key: SearchAttributes.UserId, value: input.userId },
            { key: SearchAttributes.TicketId, value: input.ticket.id },
            { key: SearchAttributes.OrderStatus, value: 'created' },
          ],
          staticSummary: `Order for "${input.ticket.title}" (${formatPrice(input.ticket.price)}), held until ${input.expiresAt}`,
          staticDetails: [
            `**Order** ${input.orderId}`,
            `**User** ${input.userId}`,
            `**Ticket** ${input.ticket.title} (id ${input.ticket.id}), price ${formatPrice(input.ticket.price)}`,
            `**Expires at** ${input.expiresAt}`,
          ].join('\n\n'),
        });
      } catch (err) {
        throw new ServiceUnavailableError(`Could not start the order's workflow: ${(err as Error).message}`);
      } finally {
        timer();
      }
    },
    async discard(orderId, reason) {
      await client.workflow.getHandle(orderWorkflowId(orderId)).terminate(`order not recorded: ${reason}`);
    },
    async notifyCancelled(orderId) {
      try {
        await client.workflow.getHandle(orderWorkflowId(orderId)).signal(orderCancelledSignal);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err; // already ended: nothing to tell
      }
    },
  };
}

const formatPrice = (price: number) => `$${price.toFixed(2)}`;
