import { AttemptSupersededError } from '../orders/errors';
import type { OrderPlan } from '../orders/order';
import type { AttemptFence } from '../orders/ports';
import type { DatabaseKind, Db } from './schema';
import { inTransaction, type Trx } from './transactions';

/** The answer that a recorded order gives its key: 201 Created, the order as its body. */
const ORDER_CREATED = 201;

/** One user's key: keys are scoped per user, so two users never see each other's answers. */
export interface KeyRef {
  userId: string;
  key: string;
}

export interface StoredAnswer {
  statusCode: number;
  body: unknown;
}

/** A key as stored: the request it was first used with, its order plan, and its answer once there is one. */
export interface IdempotencyEntry {
  fingerprint: string;
  plan: OrderPlan;
  answer?: StoredAnswer;
  /** While a request works on the key, others wait until this time; then one may take over. */
  lockedUntil: string;
}

/**
 * Idempotency keys in the database, so that every API replica honours them. Each write is one
 * conditional statement (or one transaction), so concurrent requests with one key agree on a
 * single owner.
 */
export class IdempotencyStore {
  constructor(
    private readonly db: Db,
    private readonly kind: DatabaseKind,
  ) {}

  /**
   * Stores the key with this request's fingerprint and plan, leased to the caller until
   * `lockedUntil`, unless the key is already there; a key older than `createdAfter` has expired and
   * is replaced. Returns the key as stored, and whether this call created it.
   */
  async claim(
    ref: KeyRef,
    request: { fingerprint: string; plan: OrderPlan; now: string; lockedUntil: string; createdAfter: string },
  ): Promise<{ created: boolean; entry: IdempotencyEntry }> {
    return inTransaction(this.db, this.kind, async (trx) => {
      await trx
        .deleteFrom('idempotency_keys')
        .where('user_id', '=', ref.userId)
        .where('key', '=', ref.key)
        .where('created_at', '<', request.createdAfter)
        .execute();
      const inserted = await trx
        .insertInto('idempotency_keys')
        .values({
          user_id: ref.userId,
          key: ref.key,
          fingerprint: request.fingerprint,
          order_id: request.plan.orderId,
          expires_at: request.plan.expiresAt,
          status_code: null,
          response: null,
          locked_until: request.lockedUntil,
          created_at: request.now,
        })
        .onConflict((oc) => oc.columns(['user_id', 'key']).doNothing())
        .executeTakeFirst();
      const row = await trx
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('user_id', '=', ref.userId)
        .where('key', '=', ref.key)
        .executeTakeFirstOrThrow();
      return {
        created: Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1,
        entry: {
          fingerprint: row.fingerprint,
          plan: { orderId: row.order_id, expiresAt: row.expires_at },
          ...(row.status_code !== null
            ? { answer: { statusCode: row.status_code, body: JSON.parse(row.response!) } }
            : {}),
          lockedUntil: row.locked_until,
        },
      };
    });
  }

  /**
   * Takes over a key whose lease ran out before it had an answer, with the plan to carry on with.
   * False when another request took it over first (its lease is no longer `expiredLease`).
   */
  async takeOver(ref: KeyRef, expiredLease: string, plan: OrderPlan, lockedUntil: string): Promise<boolean> {
    const result = await this.update(ref)
      .set({ order_id: plan.orderId, expires_at: plan.expiresAt, locked_until: lockedUntil })
      .where('status_code', 'is', null)
      .where('locked_until', '=', expiredLease)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /**
   * The key's answer, from now on returned to every retry; with a `lease`, only while the attempt
   * that holds it still does (a stalled attempt never answers for the retry that took its key over).
   */
  async answer(ref: KeyRef, answer: StoredAnswer, lease?: string): Promise<void> {
    await this.update(ref)
      .set({ status_code: answer.statusCode, response: JSON.stringify(answer.body) })
      .where('status_code', 'is', null)
      .$if(lease !== undefined, (q) => q.where('locked_until', '=', lease!))
      .execute();
  }

  /** Ends this attempt's lease early, without an answer: the next retry takes over at once. */
  async release(ref: KeyRef, lease: string, now: string): Promise<void> {
    await this.update(ref)
      .set({ locked_until: now })
      .where('status_code', 'is', null)
      .where('locked_until', '=', lease)
      .execute();
  }

  /** Deletes keys created before `createdBefore`, at most `limit` of them; returns how many. */
  async prune(createdBefore: string, limit = 1000): Promise<number> {
    const result = await this.db
      .deleteFrom('idempotency_keys')
      .where(({ eb, refTuple, selectFrom }) =>
        eb(
          refTuple('user_id', 'key'),
          'in',
          selectFrom('idempotency_keys')
            .select(['user_id', 'key'])
            .where('created_at', '<', createdBefore)
            .limit(limit)
            .$asTuple('user_id', 'key'),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private update(ref: KeyRef) {
    return this.db.updateTable('idempotency_keys').where('user_id', '=', ref.userId).where('key', '=', ref.key);
  }
}

/**
 * In the transaction that records an attempt's order: the key's answer becomes that order, only if
 * the attempt still holds the key (its lease and its plan's order id). Otherwise a retry took the
 * key over, and the whole transaction rolls back. On PostgreSQL this row's lock orders it against
 * a takeover: whichever commits first wins, and the other finds the key changed.
 */
export async function answerWithOrder(trx: Trx, fence: AttemptFence, orderId: string, order: unknown): Promise<void> {
  const result = await trx
    .updateTable('idempotency_keys')
    .set({ status_code: ORDER_CREATED, response: JSON.stringify(order) })
    .where('user_id', '=', fence.userId)
    .where('key', '=', fence.key)
    .where('order_id', '=', orderId)
    .where('locked_until', '=', fence.lease)
    .where('status_code', 'is', null)
    .executeTakeFirst();
  if (result.numUpdatedRows !== 1n) throw new AttemptSupersededError();
}
