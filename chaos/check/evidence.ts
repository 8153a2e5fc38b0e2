/** What the checker judges, read once after the run has settled, and the anomalies it reports. */
import { Subjects } from '../../src/orders/catalogue';
import type { Crash } from '../stack/managed-process';
import type { Ledger } from '../workload/ledger';
import { POISON_MARKER } from '../workload/other-services';
import type { DatabaseContents, DbOrder, DbOutboxRow } from './database-reader';
import type { ConsumerBacklog, StreamMessage } from './stream-reader';
import type { Workflows } from './workflow-reader';

/** DESIGN.md's eight invariants, the ticket copy (the contract's version rule), idempotent creation, holds' extensions and reminders, and crashed processes. */
export type Invariant = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 'tickets' | 'idempotency' | 'holds' | 'crash';

export interface Anomaly {
  invariant: Invariant;
  orderId?: string;
  what: string;
}

export interface Evidence {
  db: DatabaseContents;
  stream: StreamMessage[];
  backlogs: ConsumerBacklog[];
  workflows: Workflows;
  ledger: Ledger;
  crashes: Crash[];
  /** How long past its expiresAt an order may still hold its ticket. */
  graceMs: number;
  checkedAt: number;
}

const INCOMING: readonly string[] = [Subjects.TicketCreated, Subjects.TicketUpdated, Subjects.PaymentCreated];

/** A message from the other services that no well-behaved one sends: marked, not JSON, or without string ids. */
export const isPoison = (m: StreamMessage): boolean =>
  INCOMING.includes(m.subject) &&
  (m.text.includes(POISON_MARKER) || !m.data || typeof m.data.id !== 'string' || /[\r\n]/.test(m.data.id));

export const isIncoming = (m: StreamMessage): boolean => INCOMING.includes(m.subject);

/** The order (or payment) an outgoing event is about. */
export const entityOf = (m: StreamMessage): string | undefined => {
  const id = m.data?.id ?? m.data?.orderId;
  return typeof id === 'string' ? id : undefined;
};

export const isActive = (o: DbOrder): boolean => o.status === 'created' || o.status === 'awaiting:payment';

/** Messages grouped by `key`, in stream order. */
export function groupBy<T, K>(items: readonly T[], key: (item: T) => K | undefined): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** The outbox row of one event (`<subject>:<entity>`): when the change that caused it committed. */
export function outboxRow(e: Evidence, subject: string, entity: string): DbOutboxRow | undefined {
  let byMsgId = outboxIndex.get(e.db.outbox);
  if (!byMsgId) outboxIndex.set(e.db.outbox, (byMsgId = new Map(e.db.outbox.map((r) => [r.msgId, r]))));
  return byMsgId.get(`${subject}:${entity}`);
}
/** NATS refused the event for good and the relay set it aside (docs/events.md): an outcome, counted, not a loss. */
export const wasSetAside = (e: Evidence, subject: string, entity: string): boolean =>
  outboxRow(e, subject, entity)?.setAside === true;

/** Where an event missing from the stream is: written and never published, marked published, or never written. */
export function outboxFate(e: Evidence, subject: string, entity: string): string {
  const row = outboxRow(e, subject, entity);
  if (!row) return 'not in the outbox either';
  if (row.setAside) return `set aside at ${iso(row.createdAt)}: NATS refused it for good`;
  if (row.publishedAt === undefined) return `written to the outbox at ${iso(row.createdAt)}, never published`;
  return `the outbox marked it published at ${iso(row.publishedAt)}, yet it is not on the stream`;
}

const outboxIndex = new WeakMap<readonly DbOutboxRow[], Map<string, DbOutboxRow>>();

export const iso = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The faults that were on at some moment between `from` and `to`, for a report: `pause-worker 16:21:09–16:21:43`. */
export function faultsBetween(e: Evidence, from: number, to: number): string {
  const on = e.ledger.faults.filter((f) => f.at <= to && f.endedAt >= from);
  const time = (ms: number) => iso(ms).slice(11, 19);
  return on.length ? on.map((f) => `${f.kind} ${time(f.at)}–${time(f.endedAt)}`).join(', ') : 'no fault';
}
