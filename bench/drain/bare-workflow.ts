/**
 * The bare engine's expiry (drain.ts): one timer, then one activity, nothing else. Bundled by the
 * bench's own worker, on its own task queue; never part of the service.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';

export interface BareActivities {
  /** Tells the bench, through NATS, that this workflow's deadline has been handled. */
  fire(id: string): Promise<void>;
}

const { fire } = proxyActivities<BareActivities>({ startToCloseTimeout: '30 seconds' });

export async function bareExpiry(id: string, deadline: string): Promise<void> {
  await sleep(Math.max(1, Date.parse(deadline) - Date.now()));
  await fire(id);
}
