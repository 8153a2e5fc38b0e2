/**
 * `npm run bench`: the cost per order on the real stack (DESIGN.md, "Cost per order").
 *
 * It builds what production runs (`npm run build`: compiled JavaScript and the workflow bundle),
 * starts its own Temporal dev server (WAL file, as `npm run dev` does), nats-server, and the
 * API and worker as separate processes on SQLite (stack.ts), then measures on the same Temporal server:
 *   1. bare starts of the order workflow as the API makes them, run by the worker;
 *   2. orders created through REST (POST /api/orders): target >= 0.9x the bare rate (issue 21)
 *      (1 and 2 interleaved bare, REST, REST, bare, so that the server's growing database
 *      favours neither). Run twice: with the 2 cores shared evenly by every process, then with
 *      the API and worker at a lower CPU priority (nice 10), which stands in for a deployment
 *      where the service does not take its CPU out of the Temporal server's cores;
 *   3. raw starts (no metadata, no worker): the server's ceiling (1 to 3: creation.ts). These
 *      orders wait out the run (stack.ts), so that their expiries load none of the parts below;
 *   4. resident memory of the API and worker processes;
 *   5. creation at fixed offered rates, 10, 50 and 100/s (creation-rates.ts);
 *   6. the drain: N orders due together, with reminders off and in the default shape (a reminder,
 *      then the expiry), against N baseline workflows with the same deadlines (timer + activity, and
 *      timer + local activity), on the bench's own worker and task queue (drain/), N = 10,000
 *      (BENCH_DRAIN_ORDERS): the lateness, events and workflow tasks per order, and where the time
 *      goes (Temporal's steps from sampled histories, the database commit, the outbox relay, each
 *      process's CPU). Every drain runs to its last order; one that stalls fails the run;
 *   7. the peer after each drain: BullMQ on redis-server, N delayed jobs due at one deadline (peer/);
 *   8. memory with 1,000, 10,000 and 20,000 orders waiting (memory.ts);
 *   9. steady state: orders at a fixed rate with a short window for minutes (steady.ts).
 * It ends with one table (table.ts) and writes bench/results/latest.json (git-ignored). Figures are
 * printed; nothing is asserted (no timed assertions). BENCH_QUICK=1 runs every part small (under
 * 3 minutes, for CI). Env (config.ts): BENCH_ORDERS (default 1000), BENCH_CONCURRENCY (64),
 * BENCH_WARMUP (200), BENCH_WINDOW_SECONDS (30), BENCH_DRAIN_ORDERS (10000; a comma list runs one drain each), BENCH_STEADY_RATE (50),
 * BENCH_STEADY_WINDOW (60), BENCH_STEADY_SECONDS (300), BENCH_RATE_SECONDS (10), BENCH_CPU_PROF (a
 * folder for CPU profiles of the API and worker), BENCH_PARTS (some of creation,rates,drain,steady,memory).
 * Everything it starts is stopped on success, on an error and on SIGINT/SIGTERM (scripts/lib/resources.ts).
 */
import os from 'node:os';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { config, log, type Part } from './config';
import { measureCreation } from './creation';
import { measureRates, ratesTickets } from './creation-rates';
import { startBareWorker } from './drain/bare';
import { measureDrain } from './drain/drain';
import { receiveCancellations } from './expiry';
import { measureMemory, memoryTickets } from './memory';
import { measurePeer } from './peer/peer';
import { rssMb } from './processes';
import { reportCreation, reportMemory, reportSetup } from './report';
import { restClient, seedTickets } from './rest';
import { runWithResources, type Resources } from '../scripts/lib/resources';
import type { Memory, Results } from './results';
import { awaitQuiet } from './quiet';
import { startStack } from './stack';
import { measureSteady, steadyTickets } from './steady';
import { printTable, writeResults } from './table';

async function bench(resources: Resources): Promise<Results> {
  const began = Date.now();
  // The bench's own worker (the bare workflows): warnings only, not the bundler's and the worker's INFO lines
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stack = await startStack(resources);
  const { orders, warmup, concurrency, windowSeconds, quick, parts } = config;
  const setup = { orders, warmup, concurrency, windowSeconds, cpus: os.cpus().length, quick, parts };
  reportSetup(setup);
  const memory = (): Memory => ({ apiMb: rssMb(stack.api.pid), workerMb: rssMb(stack.worker.pid) });

  // The service learns each part's tickets from NATS first (rest.ts).
  const post = restClient(resources, stack.apiPort);
  const tickets = (n: number) => seedTickets(stack.nc, post, n);
  const cancelled = receiveCancellations(stack.nc);
  const results: Results = { setup, drains: [], peers: [], wallSeconds: NaN };

  if (runs('creation')) {
    // N for each of the two measured rounds, then the warm-up's
    results.creation = await measureCreation(stack, post, await tickets(2 * orders + warmup));
    reportCreation(results.creation);
    results.memory = { afterCreation: memory() };
    reportMemory('after creation', results.memory.afterCreation);
  }
  if (runs('rates')) {
    const forRates = await tickets(ratesTickets());
    await awaitQuiet(stack, 'rates');
    results.rates = await measureRates(post, forRates);
  }
  if (runs('drain')) {
    await startBareWorker(resources, stack);
    for (const n of config.drainSizes) {
      // N orders in each of its two shapes
      results.drains.push(await measureDrain(resources, stack, await tickets(2 * n), cancelled));
      // The design this service replaces, with the same N due at one deadline
      const peer = { concurrency, workerConcurrency: config.bullConcurrency, leadSeconds: config.peerLeadSeconds };
      results.peers.push(await measurePeer(resources, stack.nc, { jobs: n, ...peer }));
    }
  }
  if (runs('memory')) results.memoryScale = await measureMemory(stack, post, await tickets(memoryTickets()));
  // Last: at 50/s its expiries outrun this machine, and their backlog must load no other part
  if (runs('steady')) results.steady = await measureSteady(resources, stack, await tickets(steadyTickets()), cancelled);
  results.wallSeconds = (Date.now() - began) / 1000;
  return results;
}

const runs = (part: Part): boolean => config.parts.includes(part);

runWithResources(bench, log, (results) => {
  printTable(results);
  log(`figures in ${writeResults(results)}; the run took ${(results.wallSeconds / 60).toFixed(1)} min`);
  // A drain that stopped short gives lower bounds, not figures: the run fails (its results are kept to read).
  if (results.drains.some((d) => !d.complete)) {
    log('FAILED: a drain did not finish (drain.complete is false); its ratios are not given');
    process.exitCode = 1;
  }
});
