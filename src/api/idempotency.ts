/**
 * `Idempotency-Key` on `POST /api/orders` (Stripe's convention; IETF draft "The Idempotency-Key
 * HTTP Header Field"): a client whose answer was lost retries with the same key and gets the
 * first answer, status and body alike, instead of a second order or "Ticket is already reserved".
 *
 * The key's first request decides the order's plan (its id and deadline) and stores it with the
 * key, before anything else happens. Each attempt holds the key under a lease, and records its
 * order only while it still holds it, storing the key's answer in the same transaction (the
 * lease is its fencing token). However requests race, stall or crash, the key makes one order:
 * - an answer is stored: it is returned (`Idempotent-Replayed: true`);
 * - the plan's order is recorded without an answer (a key from before answers were stored with
 *   the order): it is the answer;
 * - another attempt holds the key's lease: 409, retry shortly;
 * - the lease ran out (that attempt died, or stalled): this one takes the key over with a plan of
 *   its own, and discards the old plan's workflow. The stalled attempt, if it wakes up, can neither
 *   record its order nor touch this one's workflow (docs/reliability.md, "Idempotency keys").
 */
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { Logger } from '../logger';
import { OrderNotFoundError } from '../orders/errors';
import type { Order, OrderPlan } from '../orders/order';
import type { AttemptFence } from '../orders/ports';
import type { OrderService } from '../orders/order-service';
import type { IdempotencyStore, KeyRef, StoredAnswer } from '../store/idempotency';
import { toHttpError } from './error-handler';
import { ConflictError, RequestValidationError, UnprocessableContentError } from './http-errors';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** How long a key and its answer are kept: the IETF draft's and Stripe's 24 hours. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 10 * 60_000;

export interface IdempotencyOptions {
  /** How long an attempt holds its key before a retry may take over: longer than a request lives. */
  leaseMs?: number;
}

export type Answer = StoredAnswer & { replayed: boolean };

/** The key of a request, or undefined without the header; a malformed key is a 400. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const raw = req.get(IDEMPOTENCY_HEADER);
  if (raw === undefined) return undefined;
  // The draft's form is a structured-field string ("..."); Stripe's clients send it bare.
  const key = /^"(.*)"$/.exec(raw)?.[1] ?? raw;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new RequestValidationError([
      { field: IDEMPOTENCY_HEADER, message: 'must be 1 to 255 visible ASCII characters, such as a UUID' },
    ]);
  }
  return key;
}

/** The request's body, canonical (keys sorted), hashed: the same key with another body is refused. */
export function fingerprintOf(body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(body ?? {})))
    .digest('base64url');
}

const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
};

export class IdempotentOrders {
  private readonly leaseMs: number;
  constructor(
    private readonly keys: IdempotencyStore,
    private readonly orders: OrderService,
    private readonly logger: Logger,
    { leaseMs = 30_000 }: IdempotencyOptions = {},
  ) {
    this.leaseMs = leaseMs;
  }

  /** Places the order for `ref`'s key once; every retry with the key gets the same answer. */
  async place(ref: KeyRef, fingerprint: string, ticketId: string): Promise<Answer> {
    const now = Date.now();
    const { created, entry } = await this.keys.claim(ref, {
      fingerprint,
      plan: this.orders.planOrder(),
      now: new Date(now).toISOString(),
      lockedUntil: new Date(now + this.leaseMs).toISOString(),
      createdAfter: new Date(now - IDEMPOTENCY_WINDOW_MS).toISOString(),
    });
    if (entry.fingerprint !== fingerprint) {
      throw new UnprocessableContentError(
        `This ${IDEMPOTENCY_HEADER} was already used with another request body; use a new key for a new request`,
      );
    }
    if (created) return this.attempt({ ...ref, lease: entry.lockedUntil }, ticketId, entry.plan);
    if (entry.answer) return { ...entry.answer, replayed: true };

    // No answer yet: an attempt is in flight, or it stopped before answering.
    const recorded = await this.recordedOrder(ref.userId, entry.plan.orderId);
    if (recorded) return this.answered(ref, { statusCode: 201, body: recorded }, true);
    const inProgress = new ConflictError(
      `A request with this ${IDEMPOTENCY_HEADER} is still in progress; retry it shortly`,
      1,
    );
    if (Date.parse(entry.lockedUntil) > now) throw inProgress;
    // A plan of its own: the old attempt may still be alive, stalled, and must never share an order
    // id or a workflow with this one. Its workflow goes (it ends only if its order was never recorded).
    const plan = this.orders.planOrder();
    const lease = new Date(now + this.leaseMs).toISOString();
    if (!(await this.keys.takeOver(ref, entry.lockedUntil, plan, lease))) throw inProgress;
    this.logger.info(
      { ...ref, orderId: plan.orderId, previousOrderId: entry.plan.orderId },
      'idempotency key taken over: its last attempt ended without a final answer (404, 409, 5xx), stopped or stalled',
    );
    await this.orders.discardPlan(entry.plan.orderId, 'a retry with its Idempotency-Key took its request over');
    return this.attempt({ ...ref, lease }, ticketId, plan);
  }

  /** One attempt, fenced by its lease: it records, answers and releases only while it holds the key. */
  private async attempt(fence: AttemptFence, ticketId: string, plan: OrderPlan): Promise<Answer> {
    const { lease, ...ref } = fence;
    let order: Order;
    try {
      order = await this.orders.placeOrder(ref.userId, ticketId, { plan, fence });
    } catch (err) {
      const httpError = toHttpError(err);
      if (httpError && isFinal(httpError.statusCode)) {
        await this.answered(ref, { statusCode: httpError.statusCode, body: httpError.toJSON() }, false, lease);
      } else {
        // Nothing final (a dependency failed, or the outcome is unknown): the next retry takes over.
        await this.keys
          .release(ref, lease, new Date().toISOString())
          .catch((e: unknown) => this.logger.warn({ err: e, ...ref }, 'could not release the idempotency key'));
      }
      throw err;
    }
    return { statusCode: 201, body: order, replayed: false }; // its answer was stored with the order
  }

  /** Stores the answer; if that fails, the retry after the lease decides again. */
  private async answered(ref: KeyRef, answer: StoredAnswer, replayed: boolean, lease?: string): Promise<Answer> {
    await this.keys
      .answer(ref, answer, lease)
      .catch((err: unknown) => this.logger.warn({ err, ...ref }, 'could not store the answer of an idempotency key'));
    return { ...answer, replayed };
  }

  private async recordedOrder(userId: string, orderId: string): Promise<Order | undefined> {
    try {
      return await this.orders.getOrder(userId, orderId);
    } catch (err) {
      if (err instanceof OrderNotFoundError) return undefined;
      throw err;
    }
  }

  /** Deletes keys past their window now and every 10 minutes; returns the stop function. */
  keepPruned(): () => void {
    const prune = async () => {
      try {
        const cutoff = new Date(Date.now() - IDEMPOTENCY_WINDOW_MS).toISOString();
        let deleted = 0;
        for (let n = await this.keys.prune(cutoff); n > 0; n = await this.keys.prune(cutoff)) deleted += n;
        if (deleted > 0) this.logger.info({ deleted }, 'expired idempotency keys deleted');
      } catch (err) {
        this.logger.warn({ err }, 'could not delete expired idempotency keys; trying again later');
      }
    };
    void prune();
    const timer = setInterval(() => void prune(), PRUNE_EVERY_MS);
    timer.unref();
    return () => clearInterval(timer);
  }
}

/**
 * Answers that the same request would get again are kept. Not kept: 404 (the ticket may be
 * announced later), 409 and 429 (they pass), and 5xx (nothing final happened).
 */
const isFinal = (status: number): boolean => status >= 400 && status < 500 && ![404, 408, 409, 429].includes(status);
