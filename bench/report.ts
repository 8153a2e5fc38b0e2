/** Prints each part's figures as the bench has always printed them (README, "Performance"). */
import { log } from './config';
import type { Comparison, Creation } from './creation';
import type { Expiry } from './expiry';
import type { Step } from './expiry-history';
import type { Rate, Spread } from './load';
import type { Memory, Setup } from './results';

const rate = (r: Rate) => `${r.perSecond.toFixed(0)}/s (p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms)`;

const cpu = (r: Rate) =>
  Object.entries(r.cpuMsPerTask)
    .map(([process, ms]) => `${process} ${ms.toFixed(2)}`)
    .join(', ');

const seconds = (s: Spread) =>
  `p50 ${(s.p50Ms / 1000).toFixed(1)} s, p99 ${(s.p99Ms / 1000).toFixed(1)} s, max ${(s.maxMs / 1000).toFixed(1)} s`;

const mb = (x: number) => (Number.isNaN(x) ? '?' : `${x.toFixed(0)} MB`);

const STEP_LABELS: Record<Step, string> = {
  timerFired: 'timer fired after expiresAt',
  taskWait: 'its workflow task waited for the worker',
  activityWait: 'the activity waited for the worker',
  activityRun: 'the activity ran',
  completion: 'then the workflow completed within',
};

export function reportSetup(s: Setup): void {
  log(
    `${s.orders} orders after ${s.warmup} of warm-up, ${s.concurrency} concurrent clients, 2 cores shared by everything (${s.cpus} CPUs)`,
  );
}

function reportComparison(how: string, { bare, rest }: Comparison): void {
  log(`${how}:`);
  log(`  bare starts of the order workflow as the API starts it, with its worker: ${rate(bare)}`);
  log(`  REST order creation: ${rate(rest)}`);
  const ratio = rest.perSecond / bare.perSecond;
  log(`  ratio REST / bare starts: ${ratio.toFixed(2)} (target >= 0.80: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
  log(`  CPU ms per order, bare starts: ${cpu(bare)}`);
  log(`  CPU ms per order, REST:        ${cpu(rest)}`);
}

export function reportCreation(c: Creation): void {
  reportComparison('the 2 cores shared evenly by every process', c.shared);
  reportComparison('the Temporal server first for CPU (API and worker at nice 10)', c.serverFirst);
  log(`REST orders that failed: ${c.restFailures}`);
  log(`bare starts, no worker at all (the server's ceiling): ${rate(c.raw)}`);
  const { requestMs, workflowStartMs } = c.insideApi;
  log(
    `inside the API, mean per order: request ${requestMs.toFixed(0)} ms, of which the workflow start ${workflowStartMs.toFixed(0)} ms`,
  );
}

export function reportMemory(when: string, m: Memory): void {
  log(`memory ${when}: API ${mb(m.apiMb)}, worker ${mb(m.workerMb)}`);
}

export function reportExpiry(e: Expiry): void {
  log(`expiry: ${e.seen}/${e.orders} order:cancelled seen; lag after expiresAt ${seconds(e.lag)}`);
  log(`  expiresAt -> cancelled in the database: ${seconds(e.committed)}`);
  log(`  committed -> published by the outbox relay: ${seconds(e.relayed)}`);
  log(`  in Temporal, from the histories of ${e.temporal.sampled} of them:`);
  for (const [step, label] of Object.entries(STEP_LABELS))
    log(`    ${`${label}:`.padEnd(42)} ${seconds(e.temporal.steps[step as Step])}`);
  log(`    workflow tasks that timed out (sticky queue backlog): ${e.temporal.taskTimeouts}`);
}
