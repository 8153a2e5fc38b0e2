/** Creation at fixed offered rates (issue 12, part 2): REST orders offered at 10, 50, 100/s, open loop. */
import { config, log } from './config';
import { offerAtRate, type Offered } from './rate';
import type { PostOrder } from './rest';

/** `tickets` holds sum(rate x seconds) of them; the orders are created on an API whose window outlasts the run. */
export async function measureRates(post: PostOrder, tickets: string[]): Promise<Offered[]> {
  const results: Offered[] = [];
  let next = 0;
  for (const rate of config.rates) {
    const from = next;
    next += Math.round(rate * config.rateSeconds);
    const r = await offerAtRate(rate, config.rateSeconds, async (i) => (await post(tickets[from + i]!)).status === 201);
    log(
      `creation offered at ${rate}/s: ${r.perSecond.toFixed(0)}/s, p50 ${r.latency.p50Ms.toFixed(0)} ms, p99 ${r.latency.p99Ms.toFixed(0)} ms, max ${r.latency.maxMs.toFixed(0)} ms, ${r.failed} failed`,
    );
    results.push(r);
  }
  return results;
}

export const ratesTickets = (): number =>
  config.rates.reduce((sum, rate) => sum + Math.round(rate * config.rateSeconds), 0);
