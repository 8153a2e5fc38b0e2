import type { Generated, Kysely } from 'kysely';
import type { Config } from '../config';
import type { OrderEnding, OrderStatus } from '../orders/order';

/** The tables as the database holds them (snake_case; the store maps rows to the domain's types). */
export interface TicketTable {
  id: string;
  title: string;
  price: number;
  version: number;
}

export interface OrderTable {
  id: string;
  user_id: string;
  ticket_id: string;
  status: OrderStatus;
  expires_at: string;
  version: number;
  payment_id: string | null;
  created_at: string;
  /** 1 for the record an expiry leaves when the API never recorded the order (docs/reliability.md, invariant 1). */
  tombstone: Generated<number>;
  /** How many times the hold was extended (0 for orders recorded before extensions existed). */
  extensions: Generated<number>;
  /** How it ended (null while active, and for orders that ended before this column existed). */
  ending: OrderEnding | null;
  /** 1 for an order that shared its ticket with a sold one before migration 0009: outside the unique index. */
  reservation_exempt: Generated<number>;
}

export interface OutboxTable {
  id: Generated<number>;
  msg_id: string;
  subject: string;
  data: string;
  created_at: string;
  published_at: string | null;
  /** Set when NATS refused the row for good: the relay skips it (docs/events.md, "Events set aside"). */
  failed_at: Generated<string | null>;
  failure: Generated<string | null>;
  /** The W3C trace context the event was written in (tracing on), published as its NATS headers. */
  traceparent: Generated<string | null>;
  tracestate: Generated<string | null>;
  /** The relay that claimed the row to publish it, and until when (docs/events.md, "Claiming"). */
  claimed_by: Generated<string | null>;
  claimed_until: Generated<string | null>;
}

/** A payment:created as the service decided it, once (migration 0010). */
export interface PaymentDecidedTable {
  payment_id: string;
  order_id: string;
  /** 1: it completed the order; 0: it was refused with payment:rejected. */
  accepted: number;
  decided_at: string;
}

/** A durable consumer's ack floor as JetStream last reported it (migration 0011; bigint: a string from pg). */
export interface ConsumerPositionTable {
  durable: string;
  stream_seq: number | string;
  updated_at: string;
}

/** A payment:created no decision could be made for, kept for a person to decide (migration 0012). */
export interface PaymentSetAsideTable {
  payment_id: string;
  /** The message's payload as it came. */
  data: string;
  stream_seq: number | string;
  reason: string;
  set_aside_at: string;
}

/** One Idempotency-Key of one user (store/idempotency.ts). */
export interface IdempotencyKeyTable {
  user_id: string;
  key: string;
  /** A hash of the request: the same key with another body is refused. */
  fingerprint: string;
  order_id: string;
  expires_at: string;
  /** The answer, once there is one: its HTTP status and JSON body. */
  status_code: number | null;
  response: string | null;
  /** While a request works on the key, others wait (409) until this time; then one takes over. */
  locked_until: string;
  created_at: string;
}

export interface Tables {
  tickets: TicketTable;
  orders: OrderTable;
  outbox: OutboxTable;
  idempotency_keys: IdempotencyKeyTable;
  payments_decided: PaymentDecidedTable;
  consumer_positions: ConsumerPositionTable;
  payments_set_aside: PaymentSetAsideTable;
}

export type Db = Kysely<Tables>;
export type DatabaseKind = Config['database']['kind'];
