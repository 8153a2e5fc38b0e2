import type { OrderPlan } from '../orders/order';
import type { DatabaseKind, Db } from './schema';
import { inTransaction } from './transactions';

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

  /** The key's answer, from now on returned to every retry. */
  async answer(ref: KeyRef, answer: StoredAnswer): Promise<void> {
    await this.update(ref)
      .set({ status_code: answer.statusCode, response: JSON.stringify(answer.body) })
      .where('status_code', 'is', null)
      .execute();
  }

  /** Ends the lease early, without an answer: the next retry takes over at once. */
  async release(ref: KeyRef, now: string): Promise<void> {
    await this.update(ref).set({ locked_until: now }).where('status_code', 'is', null).execute();
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
