import type { OrderEnding, OrderRecord, OrderStatus } from '../order';

/** Where an order stands after a decision: what its workflow shows as its end. */
export interface Outcome {
  status: OrderStatus;
  ending?: OrderEnding;
  paymentId?: string;
}

export const outcomeOf = ({ status, ending, paymentId }: OrderRecord): Outcome => ({
  status,
  ...(ending ? { ending } : {}),
  ...(paymentId ? { paymentId } : {}),
});
