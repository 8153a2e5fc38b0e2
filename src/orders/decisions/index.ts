/**
 * The domain's decisions, one module per use case: each reads an order's current record and
 * returns the change (new state and events) that the store writes in one transaction. Pure: the
 * workflow bundle imports them too.
 */
export type { Change, Command } from './change';
export { decidedNow } from './change';
export type { Outcome } from './outcome';
export { checkHoldLimit, place } from './placing';
export { cancelByUser } from './cancelling';
export { discardUnrecorded } from './discarding';
export { expire } from './expiring';
export { remindExpiring } from './reminding';
export { extendHold, extensionRefusal, type Extended } from './extending';
export { pay, rejectPayment, type PaymentResult } from './paying';
