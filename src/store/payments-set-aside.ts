import { indexSafeId } from './safe-ids';
import type { Db } from './schema';

/** A payment:created that no decision could be made for, as the payments consumer sets it aside. */
export interface SetAsidePayment {
  paymentId: string;
  /** Its payload as it came. */
  data: string;
  streamSeq: number;
  reason: string;
}

/** Payments kept for a person to decide (migration 0012): `select * from payments_set_aside`. */
export class PaymentsSetAside {
  constructor(private readonly db: Db) {}

  /** Keeps it; the same payment again (a redelivery of the same message) is kept once. */
  async record(p: SetAsidePayment): Promise<void> {
    await this.db
      .insertInto('payments_set_aside')
      .values({
        payment_id: indexSafeId(p.paymentId),
        data: p.data,
        stream_seq: p.streamSeq,
        reason: p.reason,
        set_aside_at: new Date().toISOString(),
      })
      .onConflict((oc) => oc.column('payment_id').doNothing())
      .execute();
  }
}
