/**
 * The checker: reads the orders database, every message on the stream, the durable consumers'
 * backlog and Temporal's visibility, and judges each invariant against them and the ledger.
 */
import { connect } from 'nats';
import type { Crash } from '../stack/managed-process';
import type { ChaosStack } from '../stack/stack';
import type { Ledger } from '../workload/ledger';
import { readDatabase } from './database-reader';
import { checkEvents } from './events';
import { checkHolds } from './holds';
import type { Anomaly, Evidence } from './evidence';
import { checkIdempotency } from './idempotency';
import { checkIsolation } from './isolation';
import { checkLifecycle } from './lifecycle';
import { checkPayments } from './payments';
import { checkPoison } from './poison';
import { readConsumerBacklogs, readStream } from './stream-reader';
import { readWorkflows } from './workflow-reader';

export interface Verdict {
  anomalies: Anomaly[];
  evidence: Evidence;
}

export async function check(stack: ChaosStack, ledger: Ledger, graceMs: number): Promise<Verdict> {
  const nc = await connect({ servers: stack.natsUrl });
  const workflows = await readWorkflows(stack.temporalAddress);
  try {
    const checkedAt = Date.now();
    const evidence: Evidence = {
      db: await readDatabase(stack.database.direct),
      stream: await readStream(nc),
      backlogs: await readConsumerBacklogs(nc),
      workflows,
      ledger,
      crashes: stack.crashes(),
      graceMs,
      checkedAt,
    };
    const anomalies = [
      ...(await checkLifecycle(evidence)),
      ...checkEvents(evidence),
      ...checkHolds(evidence),
      ...checkPayments(evidence),
      ...checkIsolation(evidence),
      ...checkIdempotency(evidence),
      ...checkPoison(evidence),
      ...evidence.crashes.filter((c) => !duringFault(c, ledger)).map(crashed),
    ];
    return { anomalies, evidence };
  } finally {
    await workflows.close();
    await nc.close();
  }
}

/** A start-up that failed while a fault had a dependency down (or just after): what a supervisor retries; not an anomaly. */
const duringFault = (c: Crash, ledger: Ledger): boolean =>
  c.atStartUp && ledger.faults.some((f) => c.at >= f.at && c.at <= f.endedAt + 5000);

const crashed = (c: Crash): Anomaly => ({
  invariant: 'crash',
  what: `${c.process} exited by itself ${c.atStartUp ? 'during its start-up ' : ''}(${c.exit}) at ${new Date(c.at).toISOString()}${
    c.logTail.length ? `; its last output:\n        ${c.logTail.map((l) => l.slice(0, 400)).join('\n        ')}` : ''
  }`,
});
