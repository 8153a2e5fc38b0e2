/**
 * The faults of a run, drawn from the seed: one after another at random moments, each with how long
 * it lasts. Kinds: kill -9 and restart of the worker, the API, nats-server and the Temporal dev
 * server; SIGSTOP/SIGCONT pauses longer than the activities' 30 s start-to-close timeout; the API
 * killed in the middle of a burst of POSTs; the payments consumer deleted under the workers; the
 * stream's largest message made small for a moment, so that some of the service's own events are
 * refused for good and set aside (poison past the edge); and the database's own (stack/database.ts). With replicas, each API or worker fault strikes one of them.
 */
import type { Random } from '../random';
import type { DatabaseFault } from '../stack/database';
import { planFate, type Fate } from '../workload/plan';

export type ProcessName = 'worker' | 'api' | 'nats' | 'temporal';
export type FaultKind =
  | `kill-${ProcessName}`
  | `pause-${ProcessName}`
  | 'kill-api-mid-burst'
  | 'delete-consumer'
  | 'shrink-stream'
  | DatabaseFault;

/** POSTs of fresh tickets, clients retrying, while the API is killed. */
export interface Burst {
  tickets: string[];
  users: number[];
  fates: Fate[];
  /** How long after the burst starts the API is killed. */
  killAfterMs: number;
}

export interface PlannedFault {
  at: number;
  kind: FaultKind;
  /** How long the process stays down or paused, or the database cut, locked or stopped. */
  holdMs: number;
  burst?: Burst;
  /** Which API or worker it strikes (0-based), when there are several. */
  replica?: number;
}

/** Longer than the activities' start-to-close timeout (30 s), so that they time out and retry meanwhile. */
const PAUSE_MS: [number, number] = [31_000, 38_000];
const BURST_SIZE = 12;

export function planFaults(
  random: Random,
  o: {
    durationMs: number;
    windowMs: number;
    users: number;
    replicas: number;
    databaseFaults: readonly DatabaseFault[];
  },
): PlannedFault[] {
  const weights: Partial<Record<FaultKind, number>> = {
    'kill-worker': 3,
    'kill-api': 2,
    'kill-api-mid-burst': 3,
    'kill-nats': 2,
    'kill-temporal': 2,
    'pause-worker': 1.5,
    'pause-api': 0.5,
    'pause-nats': 0.5,
    'pause-temporal': 0.5,
    'delete-consumer': 1,
    'shrink-stream': 1,
  };
  for (const fault of o.databaseFaults) weights[fault] = fault === 'restart-db' ? 1.5 : 2.5;
  // every fault of the database, and each fault at a seam, at least once: drawn early now and then,
  // else in place of a kill at the end
  const required = random.shuffle<FaultKind>([...o.databaseFaults, 'delete-consumer', 'shrink-stream']);
  const faults: PlannedFault[] = [];
  for (let at = random.between(8000, 15_000); at < o.durationMs - 5000; ) {
    const drawn = required.length > 0 && random.chance(0.4) ? required.shift() : undefined;
    const kind = drawn ?? random.weighted(weights as Record<FaultKind, number>);
    const fault = planFault(random, at, kind, o);
    faults.push(fault);
    at += fault.holdMs + random.between(5000, 12_000);
  }
  const kills = faults.filter((f) => f.kind.startsWith('kill-'));
  for (const kind of required) {
    const replaced = kills.pop();
    if (replaced) faults[faults.indexOf(replaced)] = planFault(random, replaced.at, kind, o);
  }
  return faults;
}

function planFault(
  random: Random,
  at: number,
  kind: FaultKind,
  o: { windowMs: number; users: number; replicas: number },
): PlannedFault {
  const holdMs = kind.startsWith('pause-') ? random.between(...PAUSE_MS) : holdFor(kind, random);
  const fault: PlannedFault = { at, kind, holdMs };
  if (kind === 'kill-api-mid-burst') fault.burst = planBurst(random, o.users, o.windowMs);
  if (o.replicas > 1 && /-(api|worker)\b/.test(kind)) fault.replica = random.int(0, o.replicas - 1);
  return fault;
}

function holdFor(kind: FaultKind, random: Random): number {
  switch (kind) {
    case 'lock-db':
      return random.between(6000, 12_000); // past the service's busy_timeout (5 s)
    case 'cut-db':
      return random.between(2000, 10_000);
    case 'restart-db':
      return random.between(500, 4000);
    default:
      return random.between(300, 6000);
  }
}

function planBurst(random: Random, users: number, windowMs: number): Burst {
  return {
    tickets: Array.from({ length: BURST_SIZE }, () => random.hex(24)),
    users: Array.from({ length: BURST_SIZE }, () => random.int(0, users - 1)),
    fates: Array.from({ length: BURST_SIZE }, () => planFate(random, windowMs)),
    killAfterMs: random.between(30, 400),
  };
}
