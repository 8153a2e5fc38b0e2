/**
 * Applies the planned faults one at a time, on the clock, and waits after each until every process
 * serves again, so that one fault's recovery never overlaps the next.
 */
import { errorText, log, sleep, sleepUntil } from '../log';
import type { ChaosStack } from '../stack/stack';
import type { Ledger } from '../workload/ledger';
import type { Workload } from '../workload/run-workload';
import type { Burst, PlannedFault, ProcessName } from './plan';

/** The burst's tickets are published this long before it, so that the service knows them. */
const BURST_TICKETS_LEAD_MS = 4000;

export async function injectFaults(
  faults: readonly PlannedFault[],
  stack: ChaosStack,
  w: Workload,
  ctx: { startedAt: number; endAt: number; ledger: Ledger; stopping: () => boolean },
): Promise<void> {
  for (const [i, fault] of faults.entries()) {
    const at = ctx.startedAt + fault.at;
    if (at > ctx.endAt || ctx.stopping()) return;
    if (fault.burst) {
      await sleepUntil(at - BURST_TICKETS_LEAD_MS);
      w.services.publishTickets(fault.burst.tickets);
    }
    await sleepUntil(at);
    if (ctx.stopping()) return;
    const detail = `${fault.kind} for ${(fault.holdMs / 1000).toFixed(1)} s`;
    log(`fault ${i + 1}/${faults.length}: ${detail}`);
    const began = Date.now();
    try {
      await inject(fault, stack, w);
      await Promise.all(stack.processes.map((p) => p.start()));
    } catch (err) {
      if (ctx.stopping()) return;
      throw new Error(`fault ${detail} failed: ${errorText(err)}`, { cause: err });
    }
    ctx.ledger.faults.push({ kind: fault.kind, at: began, endedAt: Date.now(), detail });
  }
}

async function inject(fault: PlannedFault, stack: ChaosStack, w: Workload): Promise<void> {
  const [action, target] = fault.kind.split(/-(.*)/s) as [string, string];
  if (fault.burst) return killApiMidBurst(fault.burst, fault.holdMs, stack, w);
  if (action === 'kill' || action === 'pause') {
    const process = stack[target as ProcessName];
    if (action === 'kill') {
      await process.kill();
      await sleep(fault.holdMs);
      await process.start();
    } else {
      process.pause();
      await sleep(fault.holdMs);
      process.resume();
    }
    return;
  }
  await stack.database.inject(fault.kind as Parameters<ChaosStack['database']['inject']>[0], fault.holdMs);
}

/** A burst of POSTs for fresh tickets; the API is killed -9 while they are in flight; the clients retry. */
async function killApiMidBurst(burst: Burst, holdMs: number, stack: ChaosStack, w: Workload): Promise<void> {
  burst.tickets.forEach((ticket, i) =>
    w.track(w.lives.live(w.users[burst.users[i]!]!, ticket, burst.fates[i]!, `burst-${ticket.slice(-6)}`)),
  );
  await sleep(burst.killAfterMs);
  await stack.api.kill();
  await sleep(holdMs);
  await stack.api.start();
}
