/**
 * The peer (issue 12, part 5): the design this service replaces, in the same run. BullMQ on Debian's
 * redis-server (no persistence, as it ran), one delayed job per order, all due at one deadline; a
 * BullMQ worker publishes `expiration:complete` to NATS (core publish) when a job fires. Its enqueue
 * rate, and its lateness from the deadline to the message at a NATS subscriber. bench/ only.
 */
import { Queue, Worker } from 'bullmq';
import type { NatsConnection } from 'nats';
import type { Resources } from '../../scripts/lib/resources';
import { freePort, spawnServer, waitForPort } from '../../scripts/lib/servers';
import { log, sleep } from '../config';
import type { Curves } from '../arrivals';
import { percentiles, runConcurrently, spread, type Spread } from '../load';

export interface Peer {
  jobs: number;
  /** Jobs a second, `concurrency` producers adding one delayed job each (as an API would per order). */
  enqueuePerSec: number;
  /** BullMQ worker concurrency. */
  workerConcurrency: number;
  seen: number;
  /** Deadline -> expiration:complete at the NATS subscriber. */
  lateness: Spread;
  drainSeconds: number;
  /** One deadline: each job is done as late as it is. */
  curves: Curves;
}

const SUBJECT = 'expiration:complete';

export async function measurePeer(
  resources: Resources,
  nc: NatsConnection,
  o: { jobs: number; concurrency: number; workerConcurrency: number; leadSeconds: number },
): Promise<Peer> {
  const port = await freePort();
  const redis = spawnServer('redis-server', '/usr/bin/redis-server', [
    ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  ]);
  resources.add('redis-server', () => redis.stop());
  await waitForPort(port, 'redis-server', 20_000, redis);
  const connection = { host: '127.0.0.1', port };

  const prefix = `bull-${Date.now()}-`;
  const arrived = new Map<string, number>();
  const sub = nc.subscribe(SUBJECT);
  resources.add('peer subscription', () => sub.unsubscribe());
  void (async () => {
    for await (const m of sub) {
      const { orderId } = JSON.parse(m.string()) as { orderId?: string };
      if (orderId?.startsWith(prefix)) arrived.set(orderId, Date.now());
    }
  })();

  const queue = new Queue('expiration', { connection });
  resources.add('BullMQ queue', () => queue.close());
  const worker = new Worker(
    'expiration',
    async (job) => {
      nc.publish(SUBJECT, JSON.stringify({ orderId: (job.data as { orderId: string }).orderId }));
    },
    { connection, concurrency: o.workerConcurrency },
  );
  resources.add('BullMQ worker', () => worker.close());
  await worker.waitUntilReady();

  const deadline = Date.now() + o.leadSeconds * 1000;
  const started = performance.now();
  await runConcurrently(o.jobs, o.concurrency, async (i) => {
    await queue.add('expire', { orderId: `${prefix}${i}` }, { delay: Math.max(0, deadline - Date.now()) });
  });
  const enqueuePerSec = o.jobs / ((performance.now() - started) / 1000);
  log(
    `peer: ${o.jobs} delayed jobs enqueued at ${enqueuePerSec.toFixed(0)}/s; due in ${((deadline - Date.now()) / 1000).toFixed(1)} s`,
  );
  if (Date.now() > deadline) log('peer: WARNING the enqueue outlasted the lead time: raise the lead');

  const giveUp = deadline + 120_000;
  while (arrived.size < o.jobs && Date.now() < giveUp) await sleep(100);
  // redis-server and BullMQ go now, so that the memory part runs without them
  await worker.close();
  await queue.close();
  await redis.stop();
  const lags = [...arrived.values()].map((t) => t - deadline);
  return {
    jobs: o.jobs,
    enqueuePerSec,
    workerConcurrency: o.workerConcurrency,
    seen: arrived.size,
    lateness: spread(lags),
    drainSeconds: Math.max(...lags) / 1000,
    curves: { doneAtMs: percentiles(lags), latenessMs: percentiles(lags) },
  };
}
