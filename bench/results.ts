/** Everything a run measured, in one object: what report.ts prints, part by part. */
import type { Creation } from './creation';
import type { Expiry } from './expiry';

export interface Setup {
  orders: number;
  warmup: number;
  concurrency: number;
  windowSeconds: number;
  cpus: number;
}

/** Resident memory of the largest process of each tree, in MB. */
export interface Memory {
  apiMb: number;
  workerMb: number;
}

export interface Results {
  setup: Setup;
  creation: Creation;
  memory: { afterCreation: Memory; afterExpiry: Memory };
  expiry: Expiry;
}
