import { createHash } from 'node:crypto';
import type { OutgoingEvent } from '../orders/catalogue';

/** Printable ASCII without spaces, and short: what a NATS header value (`Nats-Msg-Id`) carries as it is. */
const HEADER_SAFE = /^[\x21-\x7e]{1,200}$/;

/**
 * The msg id becomes JetStream's `Nats-Msg-Id` header, and the outbox's unique key. The edge
 * checks the ids of other services (events/incoming.ts), but should one ever hold CR/LF (no
 * header can carry it) or be huge (no index can hold it), it is replaced by its digest, as
 * stable, so a retried change is still written once. Every other id keeps today's
 * `<subject>:<id>`, which existing rows and JetStream's dedup rely on.
 */
export function headerSafeMsgId({ subject, msgId }: Pick<OutgoingEvent, 'subject' | 'msgId'>): string {
  return HEADER_SAFE.test(msgId) ? msgId : `${subject}:${digestOf(msgId)}`;
}

/** An id as a unique key: itself, or, if no index could hold it, its digest (as headerSafeMsgId does). */
export const indexSafeId = (id: string): string => (HEADER_SAFE.test(id) ? id : digestOf(id));

const digestOf = (id: string): string => `sha256:${createHash('sha256').update(id).digest('hex')}`;
