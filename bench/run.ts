/**
 * `npm run bench`: the cost per order on the real stack (DESIGN.md, "Cost per order").
 *
 * It builds what production runs (`npm run build`: compiled JavaScript and the workflow bundle),
 * starts its own Temporal dev server (WAL file, as `npm run dev` does), nats-server, and the
 * API and worker as separate processes on SQLite (stack.ts), then measures on the same Temporal server:
 *   1. bare starts of the order workflow as the API makes them, run by the worker;
 *   2. orders created through REST (POST /api/orders): target >= 0.8x the bare rate
 *      (1 and 2 interleaved bare, REST, REST, bare, so that the server's growing database
 *      favours neither). Run twice: with the 2 cores shared evenly by every process, then with
 *      the API and worker at a lower CPU priority (nice 10), which stands in for a deployment
 *      where the service does not take its CPU out of the Temporal server's cores;
 *   3. raw starts (no metadata, no worker): the server's ceiling (1 to 3: creation.ts);
 *   4. expiry: how long after expiresAt the REST orders' order:cancelled reach a NATS subscriber,
 *      split into the database commit, the outbox relay, and Temporal's steps (sampled histories:
 *      expiry.ts, expiry-history.ts);
 *   5. resident memory of the API and worker processes.
 * Figures are printed; nothing is asserted (no timed assertions). Env (config.ts): BENCH_ORDERS
 * (default 1000), BENCH_CONCURRENCY (64), BENCH_WARMUP (200), BENCH_WINDOW_SECONDS (30),
 * BENCH_CPU_PROF (a folder for CPU profiles of the API and worker).
 * Everything it starts is stopped on success, on an error and on SIGINT/SIGTERM (scripts/lib/resources.ts).
 */
import os from 'node:os';
import { config, log } from './config';
import { measureCreation } from './creation';
import { measureExpiry, receiveCancellations } from './expiry';
import { rssMb } from './processes';
import { reportCreation, reportExpiry, reportMemory, reportSetup } from './report';
import { restClient, seedTickets } from './rest';
import { runWithResources, type Resources } from '../scripts/lib/resources';
import type { Memory, Results } from './results';
import { startStack } from './stack';

async function bench(resources: Resources): Promise<Results> {
  const stack = await startStack(resources);
  const { orders, warmup, concurrency, windowSeconds } = config;
  const setup = { orders, warmup, concurrency, windowSeconds, cpus: os.cpus().length };
  reportSetup(setup);
  const memory = (): Memory => ({ apiMb: rssMb(stack.api.pid), workerMb: rssMb(stack.worker.pid) });

  // The service learns the tickets from NATS first: N for each of the two measured rounds, then the warm-up's.
  const post = restClient(resources, stack.apiPort);
  const tickets = await seedTickets(stack.nc, post, 2 * orders + warmup);
  const cancelled = receiveCancellations(stack.nc);

  const { creation, expiries } = await measureCreation(stack, post, tickets);
  reportCreation(creation);
  const afterCreation = memory();
  reportMemory('after creation', afterCreation);

  const expiry = await measureExpiry(stack, expiries, cancelled);
  reportExpiry(expiry);
  const afterExpiry = memory();
  reportMemory('after expiry', afterExpiry);
  return { setup, creation, memory: { afterCreation, afterExpiry }, expiry };
}

runWithResources(bench, log);
