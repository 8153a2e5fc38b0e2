/** Temporal's side: the order workflows in its visibility, and how a suspicious one ended (its history). */
import { Client, Connection } from '@temporalio/client';
import { ORDER_WORKFLOW_TYPE, orderIdFromWorkflowId, orderWorkflowId } from '../../src/workflows/shared';

export interface Workflows {
  /** order id -> the status of its workflow (RUNNING, COMPLETED, TERMINATED, …). */
  statusByOrder: Map<string, string>;
  /** How an order's workflow ended, for a report: its status and, if terminated or failed, why. */
  describe(orderId: string): Promise<string>;
  close(): Promise<void>;
}

export async function readWorkflows(address: string): Promise<Workflows> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const statusByOrder = new Map<string, string>();
  for await (const wf of client.workflow.list({ query: `WorkflowType = '${ORDER_WORKFLOW_TYPE}'` })) {
    statusByOrder.set(orderIdFromWorkflowId(wf.workflowId), wf.status.name);
  }
  return {
    statusByOrder,
    describe: async (orderId) => {
      try {
        const handle = client.workflow.getHandle(orderWorkflowId(orderId));
        const { status } = await handle.describe();
        const events = (await handle.fetchHistory()).events ?? [];
        const last = events[events.length - 1];
        const reason =
          last?.workflowExecutionTerminatedEventAttributes?.reason ??
          last?.workflowExecutionFailedEventAttributes?.failure?.message;
        return `workflow ${orderWorkflowId(orderId)} ${status.name}${reason ? ` (${reason})` : ''}`;
      } catch (err) {
        return `workflow ${orderWorkflowId(orderId)}: ${(err as Error).name === 'WorkflowNotFoundError' ? 'none' : String(err)}`;
      }
    },
    close: () => connection.close(),
  };
}
