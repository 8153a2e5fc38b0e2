import type { Client } from '@temporalio/client';
import { orderWorkflowId } from '../../src/workflows/shared';

/**
 * The names of the signals in an order's workflow history, in order: what reached the workflow,
 * whether or not a worker has acted on it yet (tests that run no worker read them here).
 */
export async function signalsOf(temporal: Client, orderId: string): Promise<string[]> {
  const history = await temporal.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
  return (history.events ?? []).flatMap((e) =>
    e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes.signalName ?? ''] : [],
  );
}
