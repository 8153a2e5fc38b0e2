/**
 * The workload's own ground truth: what it sent and when, and what it was answered. The checker
 * judges invariants 5, 6 and 7 against it (payment times against each order's expiresAt, DELETEs,
 * who owns which order), and the run writes it to ledger.json.
 */
export type PaymentKind = 'early' | 'race' | 'late' | 'duplicate' | 'second' | 'after-delete' | 'unknown-order';

export interface PlacedOrder {
  orderId: string;
  userId: string;
  ticketId: string;
  expiresAt: number;
  answeredAt: number;
  /** The POST's answer was lost (API killed, 5xx); the user found the order in its list afterwards. */
  recovered: boolean;
}

/** One 201 answer to a POST with an Idempotency-Key (every try of one POST carries the same key). */
export interface KeyedAnswer {
  key: string;
  userId: string;
  ticketId: string;
  orderId: string;
  replayed: boolean;
  /** When the POST's first try was sent, and when this answer came. */
  sentAt: number;
  answeredAt: number;
}

export interface PaymentSent {
  paymentId: string;
  orderId: string;
  kind: PaymentKind;
  /** Just before the core NATS publish; the checker judges by the stream's own timestamp. */
  sentAt: number;
}

/** One POST …/extend as its client saw it (retried on no answer or a 5xx; with a key, every try carries it). */
export interface ExtensionSent {
  orderId: string;
  keyed: boolean;
  sentAt: number;
  answeredAt: number;
  status: number;
  /** The deadline its 200 answer gave. */
  expiresAt?: number;
}

export interface DeleteSent {
  orderId: string;
  userId: string;
  sentAt: number;
  answeredAt: number;
  status: number;
}

/** A try at another user's order (or with a forged token); any 2xx breaks invariant 6. */
export interface IntrusionAttempt {
  how: 'get' | 'delete' | 'forged-token' | 'unsigned-token' | 'list';
  by: string;
  orderId?: string;
  owner?: string;
  status: number;
  /** For a list: orders of other users it returned. */
  leaked?: string[];
  at: number;
}

/** An order as its owner saw it through GET: the checker's view of changes after the end. */
export interface Observation {
  orderId: string;
  status: string;
  version: number;
  at: number;
}

export interface PoisonSent {
  marker: string;
  subject: string;
  what: string;
  bytes: number;
  sentAt: number;
}

export interface FaultDone {
  kind: string;
  at: number;
  endedAt: number;
  detail: string;
}

export class Ledger {
  readonly placed = new Map<string, PlacedOrder>();
  readonly keyedAnswers: KeyedAnswer[] = [];
  readonly payments: PaymentSent[] = [];
  readonly deletes: DeleteSent[] = [];
  readonly extensions: ExtensionSent[] = [];
  readonly intrusions: IntrusionAttempt[] = [];
  readonly observations: Observation[] = [];
  readonly poison: PoisonSent[] = [];
  readonly faults: FaultDone[] = [];
  /** ticket id -> the last version published, with its title and price. */
  readonly ticketVersions = new Map<string, { version: number; title: string; price: number }>();
  /** `METHOD status` -> how many answers (0: no answer). */
  readonly answers: Record<string, number> = {};
  posts = { tried: 0, created: 0, replayed: 0, reserved: 0, unknownTicket: 0, gaveUp: 0, recovered: 0 };

  answered(method: string, status: number): void {
    const key = `${method} ${status}`;
    this.answers[key] = (this.answers[key] ?? 0) + 1;
  }

  toJSON(): object {
    return {
      placed: [...this.placed.values()],
      keyedAnswers: this.keyedAnswers,
      payments: this.payments,
      deletes: this.deletes,
      extensions: this.extensions,
      intrusions: this.intrusions,
      observations: this.observations,
      poison: this.poison,
      faults: this.faults,
      ticketVersions: Object.fromEntries(this.ticketVersions),
      answers: this.answers,
      posts: this.posts,
    };
  }
}
