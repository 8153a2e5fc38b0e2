/**
 * Invariant 8: one malformed, oversized or hostile message never holds up any other. After each
 * poison message, the well-formed messages behind it must still flow: the outbox must not be stuck
 * behind an event a poison message caused, the durable consumers must have drained, the tickets
 * published after it must be known. And the ticket copy: every ticket ends at the last version
 * published, whatever order the updates came in (an early one comes again, never dropped).
 */
import { Subjects } from '../../src/orders/catalogue';
import { POISON_MARKER } from '../workload/other-services';
import type { DbOutboxRow } from './database-reader';
import { isPoison, iso, type Anomaly, type Evidence } from './evidence';

/** An event that a poison message caused: its id carries the marker, a line break, or is huge. */
export const isPoisonRow = (row: Pick<DbOutboxRow, 'msgId'>): boolean =>
  row.msgId.includes(POISON_MARKER) || /[\r\n]/.test(row.msgId) || row.msgId.length > 1000;

const show = (text: string) =>
  JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}… (${text.length} chars)` : text);

export function checkPoison(e: Evidence): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const poison = e.stream.filter(isPoison);
  const unpublished = e.db.outbox.filter((r) => r.publishedAt === undefined && !r.setAside);
  const head = unpublished[0];
  if (head && isPoisonRow(head)) {
    const behind = unpublished.length - 1;
    anomalies.push({
      invariant: 8,
      what: `the outbox relay is stuck on ${head.subject} ${show(head.msgId)} (written ${iso(head.createdAt)}): ${behind} events behind it never published, e.g. ${unpublished
        .slice(1, 4)
        .map((r) => r.msgId)
        .join(', ')}`,
    });
  }
  const waiting = waitingTicketUpdates(e);
  for (const backlog of e.backlogs) {
    // ticket updates whose earlier version never reached the stream wait for it, rightly (redelivered, never dropped)
    const rightlyWaiting = backlog.subjects.includes(Subjects.TicketUpdated) ? waiting.size : 0;
    if (backlog.pending + backlog.ackPending <= rightlyWaiting) continue;
    const stuck = e.stream.find(
      (m) => m.seq > backlog.ackFloor && backlog.subjects.includes(m.subject) && !waiting.has(m.seq),
    );
    anomalies.push({
      invariant: 8,
      what:
        `consumer ${backlog.name} has not drained after the settling time: ${backlog.pending} pending, ${backlog.ackPending} unacknowledged (${backlog.redelivered} redelivered)` +
        (stuck ? `; the first unacknowledged is seq ${stuck.seq} ${stuck.subject} ${show(stuck.text)}` : ''),
    });
  }
  const firstPoison = poison[0];
  if (firstPoison) {
    const known = new Set(e.db.tickets.map((t) => t.id));
    const lost = e.stream.filter(
      (m) =>
        m.subject === Subjects.TicketCreated &&
        m.seq > firstPoison.seq &&
        !isPoison(m) &&
        !known.has(String(m.data?.id)),
    );
    if (lost.length > 0)
      anomalies.push({
        invariant: 8,
        what: `${lost.length} ticket:created published after poison seq ${firstPoison.seq} never reached the ticket copy, e.g. ${lost
          .slice(0, 3)
          .map((m) => `${String(m.data?.id)} (seq ${m.seq})`)
          .join(', ')}`,
      });
  }
  return [...anomalies, ...ticketCopy(e)];
}

/** The stream sequences of ticket updates that cannot apply: an earlier version of the ticket never reached the stream. */
function waitingTicketUpdates(e: Evidence): Set<number> {
  const tickets = e.stream.filter(
    (m) => (m.subject === Subjects.TicketCreated || m.subject === Subjects.TicketUpdated) && !isPoison(m),
  );
  const versions = new Set(tickets.map((m) => `${String(m.data?.id)}@${String(m.data?.version)}`));
  const waiting = tickets.filter((m) => {
    const version = Number(m.data?.version);
    return Array.from({ length: version }, (_, v) => versions.has(`${String(m.data?.id)}@${v}`)).includes(false);
  });
  return new Set(waiting.map((m) => m.seq));
}

/** Each ticket whose every version reached the stream ends at the last version, with its title and price. */
function ticketCopy(e: Evidence): Anomaly[] {
  const onStream = new Set(
    e.stream
      .filter((m) => (m.subject === Subjects.TicketCreated || m.subject === Subjects.TicketUpdated) && !isPoison(m))
      .map((m) => `${String(m.data?.id)}@${String(m.data?.version)}`),
  );
  const stored = new Map(e.db.tickets.map((t) => [t.id, t]));
  const anomalies: Anomaly[] = [];
  for (const [id, last] of e.ledger.ticketVersions) {
    const complete = Array.from({ length: last.version + 1 }, (_, v) => onStream.has(`${id}@${v}`)).every(Boolean);
    if (!complete) continue; // a version lost before the stream (core NATS while the bus was down): not the service's
    const ticket = stored.get(id);
    if (!ticket || ticket.version !== last.version || ticket.title !== last.title || ticket.price !== last.price)
      anomalies.push({
        invariant: 'tickets',
        what: `ticket ${id}: versions 0..${last.version} all on the stream, the copy is ${ticket ? `at version ${ticket.version} ("${ticket.title}", ${ticket.price})` : 'missing'}`,
      });
  }
  return anomalies;
}
