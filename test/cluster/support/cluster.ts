/**
 * What the cluster tests share: the running cluster's processes (from its processes.json, read
 * afresh, since the supervisor gives a restarted process a new pid), clients of its two APIs, and
 * the stream as the record of every event.
 */
import fs from 'node:fs';
import { connect } from 'nats';
import { eventually } from '../../../scripts/lib/eventually';
import type { ClusterProcess } from '../../../scripts/lib/cluster';
import { isPortOpen } from '../../../scripts/lib/servers';
import { FENCE_SUBJECT, isNotFound } from '../../../src/events/jetstream';
import { fullRequester, type FullReply } from '../../support/api';
import { tokenFor } from '../../support/auth';

export const CLUSTER_JWT_KEY = 'cluster-test-jwt-key';
/** Long enough for a fault and its recovery to fall inside an order's hold. */
export const CLUSTER_WINDOW_SECONDS = 20;

export function processes(): ClusterProcess[] {
  const file = process.env.TEST_CLUSTER_STATE;
  if (!file) throw new Error('TEST_CLUSTER_STATE is unset: run the cluster suite with `npm run test:cluster`');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { processes: ClusterProcess[] }).processes;
}

export function processNamed(name: string): ClusterProcess {
  const found = processes().find((p) => p.name === name);
  if (!found) throw new Error(`no ${name} in processes.json`);
  return found;
}

export const natsUrl = (): string =>
  processes()
    .filter((p) => p.kind === 'nats')
    .map((p) => `nats://127.0.0.1:${p.ports.client}`)
    .join(',');

export const apiUrls = (): string[] =>
  processes()
    .filter((p) => p.kind === 'api')
    .map((p) => `http://127.0.0.1:${p.ports.http}`);

export const temporalAddress = (): string => `127.0.0.1:${processNamed('temporal-frontend').ports.grpc}`;

/** kill -9 of one process, as processes.json names it; the supervisor starts it again. */
export function kill9(name: string): number {
  const { pid } = processNamed(name);
  if (pid === undefined) throw new Error(`${name} has no pid`);
  process.kill(pid, 'SIGKILL');
  return pid;
}

/** Until the supervisor has started `name` again (a new pid in processes.json) and its ports answer. */
export async function restarted(name: string, oldPid: number, timeoutMs = 180_000): Promise<ClusterProcess> {
  return eventually(
    async () => {
      const p = processNamed(name);
      if (p.pid === oldPid) return undefined;
      const open = await Promise.all(Object.values(p.ports).map((port) => isPortOpen(port)));
      return open.every(Boolean) ? p : undefined;
    },
    `${name} to be started again`,
    timeoutMs,
  );
}

/** A user of the API: its cookie-less token, and requests to either replica. */
export function clusterUser(id: string) {
  const headers = { authorization: `Bearer ${tokenFor(id, CLUSTER_JWT_KEY)}` };
  return {
    id,
    request: (replica: number, method: string, path: string, extra: Record<string, string> = {}, body?: unknown) =>
      fullRequester(apiUrls()[replica]!)(method, path, { headers: { ...headers, ...extra }, body }),
  };
}

export type ClusterUser = ReturnType<typeof clusterUser>;
export type { FullReply };

export interface StreamEvent {
  subject: string;
  data: Record<string, unknown>;
  msgId: string | undefined;
  seq: number;
}

/**
 * Every event on the stream, in its order: what the other services consume (read from the stream's
 * leader). Not the workers' fences (`orders:clock-fence`, empty), nor the sequences they left when
 * each deleted its previous one.
 */
export async function streamEvents(stream = 'ticketing'): Promise<StreamEvent[]> {
  const nc = await connect({ servers: natsUrl().split(','), maxReconnectAttempts: -1 });
  try {
    const jsm = await nc.jetstreamManager();
    const { first_seq, last_seq } = (await jsm.streams.info(stream)).state;
    const events: StreamEvent[] = [];
    for (let seq = first_seq; seq > 0 && seq <= last_seq; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq }).catch((err: unknown) => {
        if (isNotFound(err)) return undefined; // deleted
        throw err;
      });
      if (!m || m.subject === FENCE_SUBJECT) continue;
      events.push({
        subject: m.subject,
        data: m.json<Record<string, unknown>>(),
        msgId: m.header?.get('Nats-Msg-Id') || undefined,
        seq,
      });
    }
    return events;
  } finally {
    await nc.close();
  }
}

/** The events of one order, in stream order, by subject. */
export const eventsOf = (events: StreamEvent[], orderId: string): string[] =>
  events.filter((e) => e.data.id === orderId || e.data.orderId === orderId).map((e) => e.subject);
