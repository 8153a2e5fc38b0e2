/**
 * Waits for the servers to finish the work that the last part left them: a burst of thousands of
 * starts leaves the dev server writing visibility records and transfer tasks for a minute after the
 * last reply. A part that began meanwhile would pay for its predecessor, and in the drain the side
 * that ran first would look slower than the other (its first full run measured 2.8 instead of 1).
 */
import { log, sleep } from './config';
import type { Stack } from './stack';

/**
 * CPU below this share of one core, in each of QUIET_SAMPLES one-second samples, is quiet. With
 * 26,000 orders waiting, a full run's servers stayed above a tenth of a core for minutes.
 */
const QUIET_CORE_SHARE = 0.2;
const QUIET_SAMPLES = 3;
const PATIENCE_MS = 120_000;

const SERVERS = ['temporal', 'worker', 'api', 'nats'];

export async function awaitQuiet(stack: Stack, before: string): Promise<void> {
  const began = Date.now();
  let quiet = 0;
  for (let last = stack.cpuSnapshot(), used: Record<string, number> = {}; quiet < QUIET_SAMPLES; ) {
    if (Date.now() - began > PATIENCE_MS) {
      const shares = SERVERS.map((k) => `${k} ${(used[k] ?? 0).toFixed(2)}`).join(', ');
      log(`${before}: the servers still used cores (${shares}) after ${PATIENCE_MS / 1000} s; going on`);
      return;
    }
    await sleep(1000);
    const now = stack.cpuSnapshot();
    used = Object.fromEntries(SERVERS.map((k) => [k, now[k]! - last[k]!]));
    quiet = Object.values(used).reduce((a, b) => a + b, 0) < QUIET_CORE_SHARE ? quiet + 1 : 0;
    last = now;
  }
  const waited = (Date.now() - began) / 1000;
  if (waited > QUIET_SAMPLES + 1)
    log(`${before}: waited ${waited.toFixed(0)} s for the servers to finish earlier work`);
}
