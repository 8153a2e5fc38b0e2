/**
 * After the workload and the faults: every process serving and ready again, then a grace period in
 * which the system must reach a quiet state (no active order, an empty outbox, drained consumers).
 * It polls for that state, and stops waiting at the last deadline plus the grace period.
 */
import { connect } from 'nats';
import { eventually } from '../scripts/lib/eventually';
import { readBacklog } from './check/database-reader';
import { readConsumerBacklogs } from './check/stream-reader';
import { errorText, log } from './log';
import type { ChaosStack } from './stack/stack';

const READY_TIMEOUT_MS = 180_000;
const POLL_EVERY_MS = 1000;

export async function settle(stack: ChaosStack, lastDeadline: number, graceMs: number): Promise<void> {
  await Promise.all(stack.processes.map((p) => p.start()));
  const ready = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(5000) })).ok;
  await eventually(
    async () => ((await Promise.all(stack.readyUrls.map(ready))).every(Boolean) ? true : undefined),
    'every API and worker to be ready (/readyz)',
    READY_TIMEOUT_MS,
  );
  const until = Math.max(Date.now(), lastDeadline) + graceMs;
  log(
    `all ready; waiting until ${new Date(until).toISOString()} at the latest for the orders to end and the events to flow`,
  );
  const nc = await connect({ servers: stack.natsUrl });
  let polledAt = 0;
  let reportedAt = Date.now();
  try {
    await eventually(
      async () => {
        if (Date.now() - polledAt < POLL_EVERY_MS) return undefined;
        polledAt = Date.now();
        const { activeOrders, unpublished } = await readBacklog(stack.database.direct);
        const consumers = (await readConsumerBacklogs(nc)).reduce((n, c) => n + c.pending + c.ackPending, 0);
        if (Date.now() - reportedAt > 10_000) {
          log(
            `  settling: ${activeOrders} active orders, ${unpublished} unpublished events, ${consumers} messages in the consumers`,
          );
          reportedAt = Date.now();
        }
        return activeOrders + unpublished + consumers === 0 ? true : undefined;
      },
      'no active order, an empty outbox and drained consumers',
      until - Date.now(),
    );
    log('settled: no active order, every event published, the consumers drained');
  } catch (err) {
    log(`did not settle (${errorText(err)}); checking it as it is`);
  } finally {
    await nc.close();
  }
}
