/**
 * Waits for the servers to finish the work that the last part left them: a burst of thousands of
 * starts leaves the dev server writing visibility records and transfer tasks for a minute after the
 * last reply. A part that began meanwhile would pay for its predecessor, and in the drain the side
 * that ran first would look slower than the other (its first full run measured 2.8 instead of 1).
 */
import { log, sleep } from './config';
import type { Stack } from './stack';

/** CPU below this share of one core, in each of QUIET_SAMPLES one-second samples, is quiet. */
const QUIET_CORE_SHARE = 0.1;
const QUIET_SAMPLES = 3;
const PATIENCE_MS = 180_000;

export async function awaitQuiet(stack: Stack, before: string): Promise<void> {
  const began = Date.now();
  const busy = () => {
    const cpu = stack.cpuSnapshot();
    return cpu.temporal! + cpu.worker! + cpu.api! + cpu.nats!;
  };
  let quiet = 0;
  for (let last = busy(); quiet < QUIET_SAMPLES; ) {
    if (Date.now() - began > PATIENCE_MS) {
      log(`${before}: the servers were still busy after ${PATIENCE_MS / 1000} s; going on`);
      return;
    }
    await sleep(1000);
    const now = busy();
    quiet = now - last < QUIET_CORE_SHARE ? quiet + 1 : 0;
    last = now;
  }
  const waited = (Date.now() - began) / 1000;
  if (waited > QUIET_SAMPLES + 1)
    log(`${before}: waited ${waited.toFixed(0)} s for the servers to finish earlier work`);
}
