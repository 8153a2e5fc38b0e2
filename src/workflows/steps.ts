/**
 * The order's steps, each one short database transaction (the domain decides, the store writes the
 * change with its events): how the workflow calls them. Workflow-safe: proxies only.
 *
 * A local activity runs on the worker inside the workflow task that asked for it, and its result
 * is recorded as one marker: no activity task to schedule, dispatch, start and complete, and no
 * second workflow task to hear of it. On a dev server that writes every history event one at a time,
 * that is most of an order's cost (docs/performance.md). It is safe here because every step is
 * idempotent (a local activity runs again when the worker dies before its task completes) and none
 * waits: an expiry with payments still undecided fails at once and is retried, with back-off, by a
 * workflow timer once the back-off passes a minute (`localRetryThreshold`).
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';

type Activities = ReturnType<typeof createActivities>;

/** Retried without limit (with backoff): a database or bus that is down delays the order's end, never loses it. */
const retry = { initialInterval: '1 second', maximumInterval: '1 minute' } as const;

const SUMMARIES = {
  expireOrder: 'Expire: publish expiration:complete, cancel the order',
  completeOrder: 'Apply the payment: complete the order, or refuse the payment',
  rejectPayment: 'Refuse a late payment: publish payment:rejected',
  extendHold: 'Extend the hold: move expiresAt, publish order:updated',
  remindExpiring: 'Remind the holder: publish order:expiring if the order is still active',
  discardUnrecorded: 'Discard: end an order that was never recorded, if none was',
} as const satisfies Partial<Record<keyof Activities, string>>;

export type OrderSteps = Pick<Activities, keyof typeof SUMMARIES>;

/**
 * The steps as local activities (`local`), or as regular ones, as workflows started before
 * LOCAL_STEPS_PATCH ran them and must keep running them on replay.
 */
export function orderSteps(local: boolean): OrderSteps {
  const step = <K extends keyof OrderSteps>(name: K): OrderSteps[K] => {
    const summary = SUMMARIES[name];
    // One transaction: the pool's wait and the statement's timeout (10 s each by default) fit in it.
    const proxies = local
      ? proxyLocalActivities<OrderSteps>({ startToCloseTimeout: '30 seconds', retry, summary })
      : proxyActivities<OrderSteps>({ startToCloseTimeout: '30 seconds', retry, summary });
    return proxies[name];
  };
  return {
    expireOrder: step('expireOrder'),
    completeOrder: step('completeOrder'),
    rejectPayment: step('rejectPayment'),
    extendHold: step('extendHold'),
    remindExpiring: step('remindExpiring'),
    discardUnrecorded: step('discardUnrecorded'),
  };
}
