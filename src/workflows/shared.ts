/**
 * The order workflow's contract, shared by the workflow, the worker, the API and the tests.
 * Workflow-safe: it imports only @temporalio/workflow and @temporalio/common (types and
 * definitions, no I/O), so the workflow bundle can include it. Dates cross as ISO strings.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OrderEnding, OrderStatus, Payment } from '../orders/order';

export const DEFAULT_TASK_QUEUE = 'orders';
export const ORDER_WORKFLOW_TYPE = 'orderWorkflow';

const WORKFLOW_ID_PREFIX = 'order-';
/** One workflow per order, found in the Web UI as `order-<orderId>`, started only once. */
export const orderWorkflowId = (orderId: string): string => `${WORKFLOW_ID_PREFIX}${orderId}`;
/** The inverse, for tools that start from a workflow (the UI, `temporal workflow list`). */
export const orderIdFromWorkflowId = (workflowId: string): string => {
  if (!workflowId.startsWith(WORKFLOW_ID_PREFIX)) throw new Error(`Not an order workflow id: ${workflowId}`);
  return workflowId.slice(WORKFLOW_ID_PREFIX.length);
};

/**
 * `patched()` ids, one per change to the workflow's steps made while orders were in flight
 * (docs/changing-the-workflow.md). Never reused: a recorded marker names its change for good.
 */
export const EXPIRING_REMINDER_PATCH = 'order-expiring-reminder';
/** The order's steps run as local activities (steps.ts). */
export const LOCAL_STEPS_PATCH = 'order-local-steps';

/** The workflow's one state object: what the query returns and the workflow's result. */
export interface OrderState {
  orderId: string;
  status: OrderStatus;
  expiresAt: string;
  ending?: OrderEnding;
  paymentId?: string;
  /** How many times the hold was extended; absent until it is. */
  extensions?: number;
  /** Payments refused because the order had already ended (each got a `payment:rejected`). */
  rejectedPaymentIds: string[];
  /** Why the API asked to discard it (`ending: 'not-recorded'`). */
  discardReason?: string;
}

/** A `payment:created` the database has decided, relayed so that the workflow stops waiting. */
export const paymentReceivedSignal = defineSignal<[Payment]>('paymentReceived');
/** Sent by the API after DELETE has cancelled the order in the database: the wait is over. */
export const orderCancelledSignal = defineSignal('orderCancelled');
/**
 * Sent by the API when it could not record the order (a rule refused it, or a retry took its
 * request over), with why: the workflow ends (`not-recorded`) unless an order with its id exists.
 */
export const discardSignal = defineSignal<[string]>('discardUnrecorded');
export const orderStateQuery = defineQuery<OrderState>('orderState');
/**
 * POST /api/orders/:orderId/extend: more time for the holder. Its validator refuses an order that is
 * ending or ended, or at its policy's limit (failure types `OrderNotActiveError`,
 * `HoldExtensionLimitError`); the handler moves the deadline in the database, then the timer.
 */
export const extendHoldUpdate = defineUpdate<OrderState>('extendHold');

/** Search attributes, registered on the server by `npm run dev` and by the tests. */
export const SearchAttributes = {
  OrderId: defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD),
  UserId: defineSearchAttributeKey('UserId', SearchAttributeType.KEYWORD),
  TicketId: defineSearchAttributeKey('TicketId', SearchAttributeType.KEYWORD),
  OrderStatus: defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD),
} as const;
