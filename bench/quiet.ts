/**
 * Waits for the servers to finish the work that the last part left them: a burst of thousands of
 * starts leaves the dev server writing visibility records and transfer tasks for a minute after the
 * last reply. A part that began meanwhile would pay for its predecessor, and in the drain the side
 * that ran first would look slower than the other (its first full run measured 2.8 instead of 1).
 */
import { log, sleep } from './config';
import type { Stack } from './stack';

/**
 * Quiet: the servers together used less than this share of one core, on average over the last
 * QUIET_SECONDS. An average, not every second: with 20,000 orders waiting the dev server's
 * housekeeping takes a second's burst every few seconds, and a run that waited for three idle
 * seconds in a row waited its whole patience (2 minutes) at each memory level.
 */
const QUIET_CORE_SHARE = 0.2;
const QUIET_SECONDS = 5;
const PATIENCE_MS = 120_000;

const SERVERS = ['temporal', 'worker', 'api', 'nats'];

export async function awaitQuiet(stack: Stack, before: string): Promise<void> {
  const began = Date.now();
  const window: Array<Record<string, number>> = []; // each server's CPU seconds, second by second
  const mean = (k: string) => window.reduce((sum, used) => sum + used[k]!, 0) / window.length;
  const total = () => SERVERS.reduce((sum, k) => sum + mean(k), 0);
  for (let last = stack.cpuSnapshot(); window.length < QUIET_SECONDS || total() >= QUIET_CORE_SHARE; ) {
    if (Date.now() - began > PATIENCE_MS) {
      const shares = SERVERS.map((k) => `${k} ${mean(k).toFixed(2)}`).join(', ');
      log(
        `${before}: the servers still used cores (${shares}, the last ${QUIET_SECONDS} s) after ${PATIENCE_MS / 1000} s; going on`,
      );
      return;
    }
    await sleep(1000);
    const now = stack.cpuSnapshot();
    window.push(Object.fromEntries(SERVERS.map((k) => [k, now[k]! - last[k]!])));
    if (window.length > QUIET_SECONDS) window.shift();
    last = now;
  }
  const waited = (Date.now() - began) / 1000;
  if (waited > QUIET_SECONDS + 1)
    log(`${before}: waited ${waited.toFixed(0)} s for the servers to finish earlier work`);
}
