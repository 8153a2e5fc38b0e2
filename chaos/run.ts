/**
 * `npm run chaos -- --seed N --minutes M --db sqlite|postgres [--replicas R]`: a seeded, reproducible campaign
 * against the real servers (docs/reliability.md). It starts its own Temporal dev server, nats-server,
 * database and the compiled API and worker on free ports; runs the workload (workload/) while the
 * faults (faults/) strike; lets the system settle (settle.ts); then the checker (check/) judges every
 * invariant of DESIGN.md against the database, the stream, Temporal and the workload's own ledger.
 * It prints the report and, last, `chaos: <orders> orders, <faults> faults, <anomalies> anomalies
 * (seed N, db D)`, and exits non-zero on any anomaly. Everything it started is stopped on success,
 * on failure and on Ctrl-C; the ledger, the anomalies, what the checker read and the processes'
 * logs are kept in .data/chaos/seed-<N>-<db>/.
 *
 * The workload runs for --minutes (CHAOS_MINUTES, default 3); settling and checking add about a
 * window plus half a minute. CI runs a bounded campaign on each database (.ci/run, a fixed seed);
 * a long soak is `CHAOS_MINUTES=60 npm run chaos -- --seed N --db sqlite|postgres` with any seed.
 * Pauses last 31-38 s, past the activities' 30 s start-to-close timeout, in CI as well.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { connect } from 'nats';
import { runWithResources, type Resources } from '../scripts/lib/resources';
import { ROOT } from '../scripts/lib/servers';
import { check, type Verdict } from './check/check';
import { injectFaults } from './faults/inject';
import { planFaults } from './faults/plan';
import { log } from './log';
import { parseOptions, type ChaosOptions } from './options';
import { Random } from './random';
import { report } from './report';
import { settle } from './settle';
import { JWT_KEY, startStack } from './stack/stack';
import { Ledger } from './workload/ledger';
import { planWorkload } from './workload/plan';
import { runWorkload, workload } from './workload/run-workload';

/** How long past its expiresAt an order may still hold its ticket once the system is healthy. */
const GRACE_MS = 30_000;

async function chaos(resources: Resources, options: ChaosOptions): Promise<string> {
  const random = new Random(options.seed);
  const durationMs = options.minutes * 60_000;
  const windowMs = options.windowSeconds * 1000;
  const plan = planWorkload(random.fork('workload'), durationMs, windowMs);
  const stack = await startStack(resources, options);
  const faults = planFaults(random.fork('faults'), {
    durationMs,
    windowMs,
    users: plan.users.length,
    replicas: options.replicas,
    databaseFaults: stack.database.faults,
  });
  // the same seed, the same schedule: its fingerprint tells a replay from another run
  const fingerprint = createHash('sha256').update(JSON.stringify({ plan, faults })).digest('hex').slice(0, 12);
  log(
    `seed ${options.seed}: schedule ${fingerprint}, ${plan.actions.length} workload actions, ${faults.length} faults: ${faults.map((f) => f.kind).join(', ')}`,
  );

  const ledger = new Ledger();
  const nc = await connect({
    servers: stack.natsUrl,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
  resources.add('NATS connection', () => nc.close());
  const w = workload(plan, stack.apiUrls, JWT_KEY, nc, ledger);
  const startedAt = Date.now();
  const endAt = startedAt + durationMs;
  const progress = setInterval(() => {
    const crashes = stack.crashes().length;
    log(
      `progress: ${ledger.placed.size} orders, ${ledger.payments.length} payments, ${ledger.faults.length}/${faults.length} faults, ${crashes} crashes`,
    );
  }, 5000);
  resources.add('progress', () => clearInterval(progress));
  await Promise.all([
    runWorkload(plan, w, { startedAt, endAt, random: random.fork('runtime') }),
    injectFaults(faults, stack, w, {
      startedAt,
      endAt,
      ledger,
      nc,
      stopping: () => resources.stopping,
    }),
  ]);
  log('workload and faults over; letting the orders in flight finish');
  await w.drain(windowMs + 60_000);
  clearInterval(progress);

  const lastDeadline = Math.max(endAt + windowMs, ...[...ledger.placed.values()].map((o) => o.expiresAt));
  await settle(stack, lastDeadline, GRACE_MS);
  const verdict = await check(stack, ledger, GRACE_MS);
  const { orders } = report(options, verdict);
  keep(stack.dir, options, ledger, verdict);
  if (verdict.anomalies.length > 0) process.exitCode = 1;
  return `chaos: ${orders} orders, ${ledger.faults.length} faults, ${verdict.anomalies.length} anomalies (seed ${options.seed}, db ${options.db}${options.replicas > 1 ? `, ${options.replicas} replicas` : ''})`;
}

/** The ledger, the anomalies, what the checker read and the processes' logs, kept after the run's folder is removed. */
function keep(runDir: string, options: ChaosOptions, ledger: Ledger, verdict: Verdict): void {
  const replicas = options.replicas > 1 ? `-${options.replicas}-replicas` : '';
  const dir = path.join(ROOT, '.data', 'chaos', `seed-${options.seed}-${options.db}${replicas}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'ledger.json'), JSON.stringify(ledger, null, 1));
  fs.writeFileSync(path.join(dir, 'anomalies.json'), JSON.stringify(verdict.anomalies, null, 1));
  // what the checker read, for a closer look: the tables, and the stream (long payloads cut)
  fs.writeFileSync(path.join(dir, 'database.json'), JSON.stringify(verdict.evidence.db, null, 1));
  const stream = verdict.evidence.stream.map(({ data: _data, text, ...m }) => ({
    ...m,
    text: text.slice(0, 2000),
  }));
  fs.writeFileSync(path.join(dir, 'stream.json'), JSON.stringify(stream, null, 1));
  fs.cpSync(path.join(runDir, 'logs'), path.join(dir, 'logs'), {
    recursive: true,
  });
  log(`ledger, anomalies and logs kept in ${path.relative(process.cwd(), dir)}/`);
}

let options: ChaosOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
runWithResources(
  (resources) => chaos(resources, options),
  log,
  (lastLine) => console.log(lastLine),
);
