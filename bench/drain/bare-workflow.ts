/**
 * The drain's baselines (drain.ts): one timer, then one step, nothing else. Bundled by the bench's
 * own worker, on its own task queue; never part of the service.
 *   - bareExpiry: the step is a regular activity, as a naive expiry workflow would write it;
 *   - minimalExpiry: the step is a local activity, the least work Temporal can do for an order
 *     that expires (one timer, one marker, two workflow tasks): the limit on this server.
 */
import { proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';

export interface BareActivities {
  /** Tells the bench, through NATS, that this workflow's deadline has been handled. */
  fire(id: string): Promise<void>;
}

const regular = proxyActivities<BareActivities>({ startToCloseTimeout: '30 seconds' });
const local = proxyLocalActivities<BareActivities>({ startToCloseTimeout: '30 seconds' });

export async function bareExpiry(id: string, deadline: string): Promise<void> {
  await sleep(Math.max(1, Date.parse(deadline) - Date.now()));
  await regular.fire(id);
}

export async function minimalExpiry(id: string, deadline: string): Promise<void> {
  await sleep(Math.max(1, Date.parse(deadline) - Date.now()));
  await local.fire(id);
}
