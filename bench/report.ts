/** Prints each part's figures as the bench has always printed them (docs/performance.md). */
import { log } from './config';
import type { Comparison, Creation } from './creation';
import type { Rate } from './load';
import type { Memory, Setup } from './results';

const rate = (r: Rate) => `${r.perSecond.toFixed(0)}/s (p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms)`;

const cpu = (r: Rate) =>
  Object.entries(r.cpuMsPerTask)
    .map(([process, ms]) => `${process} ${ms.toFixed(2)}`)
    .join(', ');

const mb = (x: number) => (Number.isNaN(x) ? '?' : `${x.toFixed(0)} MB`);

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
  log(`  ratio REST / bare starts: ${ratio.toFixed(2)} (target >= 0.90: ${ratio >= 0.9 ? 'met' : 'NOT met'})`);
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
