/**
 * Applies the planned faults one at a time, on the clock, and waits after each until every process
 * serves again, so that one fault's recovery never overlaps the next.
 */
import { errorText, log, sleep, sleepUntil } from '../log';
import type { ChaosStack } from '../stack/stack';
import type { Ledger } from '../workload/ledger';
import type { Workload } from '../workload/run-workload';
import type { NatsConnection } from 'nats';
import { PAYMENTS_CONSUMER } from '../../src/events/payments-consumer';
import type { ManagedProcess } from '../stack/managed-process';
import type { PlannedFault, ProcessName } from './plan';

/** The service's stream (NATS_STREAM's default). */
const STREAM = 'ticketing';
/** The burst's tickets are published this long before it, so that the service knows them. */
const BURST_TICKETS_LEAD_MS = 4000;

export async function injectFaults(
  faults: readonly PlannedFault[],
  stack: ChaosStack,
  w: Workload,
  ctx: { startedAt: number; endAt: number; ledger: Ledger; nc: NatsConnection; stopping: () => boolean },
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
    const on = fault.replica === undefined ? '' : ` on ${processOf(fault, stack).name}`;
    const detail = `${fault.kind}${on} for ${(fault.holdMs / 1000).toFixed(1)} s`;
    log(`fault ${i + 1}/${faults.length}: ${detail}`);
    const began = Date.now();
    try {
      await inject(fault, stack, w, ctx.nc);
      await Promise.all(stack.processes.map((p) => p.start()));
    } catch (err) {
      if (ctx.stopping()) return;
      throw new Error(`fault ${detail} failed: ${errorText(err)}`, { cause: err });
    }
    ctx.ledger.faults.push({ kind: fault.kind, at: began, endedAt: Date.now(), detail });
  }
}

async function inject(fault: PlannedFault, stack: ChaosStack, w: Workload, nc: NatsConnection): Promise<void> {
  const [action] = fault.kind.split(/-(.*)/s) as [string, string];
  if (fault.burst) return killApiMidBurst(fault, stack, w);
  if (fault.kind === 'delete-consumer') {
    // The payments consumer is lost under the running workers: they create it again after its
    // recorded ack floor, and no payment is decided twice (the checker's invariants 5 and 7).
    await (await nc.jetstreamManager()).consumers.delete(STREAM, PAYMENTS_CONSUMER);
    await sleep(fault.holdMs);
    return;
  }
  if (fault.kind === 'shrink-stream') return shrinkStream(fault.holdMs, nc);
  if (action === 'kill' || action === 'pause') {
    const process = processOf(fault, stack);
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

/** A burst of POSTs for fresh tickets; an API is killed -9 while they are in flight; the clients retry. */
async function killApiMidBurst(fault: PlannedFault, stack: ChaosStack, w: Workload): Promise<void> {
  const burst = fault.burst!;
  burst.tickets.forEach((ticket, i) =>
    w.track(w.lives.live(w.users[burst.users[i]!]!, ticket, burst.fates[i]!, `burst-${ticket.slice(-6)}`)),
  );
  await sleep(burst.killAfterMs);
  const api = processOf(fault, stack);
  await api.kill();
  await sleep(fault.holdMs);
  await api.start();
}

/**
 * The stream takes no message over SHRUNK_BYTES for a while, as a misconfigured stream would: the
 * service's larger events are refused for good (400), and the relay sets them aside while the rest
 * flow (invariant 8 past the edge); the other services' larger messages never reach the stream.
 */
async function shrinkStream(holdMs: number, nc: NatsConnection): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const { config } = await jsm.streams.info(STREAM);
  await jsm.streams.update(STREAM, { ...config, max_msg_size: SHRUNK_BYTES });
  try {
    await sleep(holdMs);
  } finally {
    await jsm.streams.update(STREAM, { ...config, max_msg_size: config.max_msg_size });
  }
}

/** Between the smaller events (order:cancelled, expiration:complete) and the larger (order:created, payment:rejected). */
const SHRUNK_BYTES = 120;

/** The process a kill or a pause strikes: an API or a worker (one of the replicas), nats or temporal. */
function processOf(fault: PlannedFault, stack: ChaosStack): ManagedProcess {
  const target = fault.kind.replace(/^(kill|pause)-/, '').replace(/-mid-burst$/, '') as ProcessName;
  if (target === 'api' || target === 'worker') return stack[`${target}s`][fault.replica ?? 0]!;
  return stack[target];
}
