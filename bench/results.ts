/** Everything a run measured, in one object: what report.ts and table.ts print, part by part. */
import type { Part } from './config';
import type { Creation } from './creation';
import type { Drain } from './drain/drain';
import type { MemoryScale } from './memory';
import type { Peer } from './peer/peer';
import type { Offered } from './rate';
import type { Steady } from './steady';

export interface Setup {
  orders: number;
  warmup: number;
  concurrency: number;
  windowSeconds: number;
  cpus: number;
  quick: boolean;
  parts: Part[];
}

/** Resident memory of the largest process of each tree, in MB. */
export interface Memory {
  apiMb: number;
  workerMb: number;
}

/** A part left out by BENCH_PARTS is absent (its drains and peers empty). */
export interface Results {
  setup: Setup;
  creation?: Creation;
  rates?: Offered[];
  memory?: { afterCreation: Memory };
  /** One drain per N (config.drainSizes), and the peer with the same N. */
  drains: Drain[];
  steady?: Steady;
  peers: Peer[];
  memoryScale?: MemoryScale;
  wallSeconds: number;
}
