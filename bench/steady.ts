/**
 * Steady state (issue 12, part 3): orders arrive at a fixed rate with a short window for minutes, so
 * that creations and expiries overlap; the API's latency and the expiry's lateness meanwhile.
 */
import type { Resources } from '../scripts/lib/resources';
import { awaitArrivals, type Lateness } from './arrivals';
import { config, log } from './config';
import { offerAtRate, type Offered } from './rate';
import { awaitQuiet } from './quiet';
import { restClient } from './rest';
import { startApi, type Stack } from './stack';

export interface Steady {
  rate: number;
  windowSeconds: number;
  seconds: number;
  api: Offered;
  expiry: Lateness;
}

/**
 * How long after the last deadline the part waits for a backlog. 50/s is more than this machine
 * expires (docs/performance.md): the part runs last, and reports what was still missing then as
 * late as it was (lower bounds), rather than wait minutes for a figure already far past its target.
 */
const STEADY_PATIENCE_MS = 30_000;

export const steadyTickets = (): number => Math.round(config.steady.rate * config.steady.seconds);

export async function measureSteady(
  resources: Resources,
  stack: Stack,
  tickets: string[],
  cancelled: Map<string, number>,
): Promise<Steady> {
  const { rate, windowSeconds, seconds } = config.steady;
  const api = await startApi(resources, stack, windowSeconds);
  const post = restClient(resources, api.port);
  await awaitQuiet(stack, 'steady');
  log(`steady: ${rate} orders/s with a ${windowSeconds} s window for ${seconds} s`);
  const due = new Map<string, number>();
  const offered = await offerAtRate(rate, seconds, async (i) => {
    const res = await post(tickets[i]!);
    if (res.status !== 201) return false;
    const order = JSON.parse(res.body) as { id: string; expiresAt: string };
    due.set(order.id, Date.parse(order.expiresAt));
    return true;
  });
  const expiry = await awaitArrivals('steady', due, cancelled, {
    stallMs: STEADY_PATIENCE_MS,
    patienceMs: STEADY_PATIENCE_MS,
  });
  await api.stop();
  log(
    `steady: API p99 ${offered.latency.p99Ms.toFixed(0)} ms; expiry lateness p99 ${expiry.lateness.p99Ms.toFixed(0)} ms (${expiry.seen}/${expiry.expected})`,
  );
  return { rate, windowSeconds, seconds, api: offered, expiry };
}
