/** The order as clients and the other services see it (DESIGN.md, "The order as the API returns it"). */
export const OrderStatus = {
  Created: 'created',
  AwaitingPayment: 'awaiting:payment',
  Complete: 'complete',
  Cancelled: 'cancelled',
} as const;
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];

/** Statuses that hold the ticket; the database allows one such order per ticket. */
export const ACTIVE_STATUSES: readonly OrderStatus[] = [OrderStatus.Created, OrderStatus.AwaitingPayment];
export const isActive = (status: OrderStatus): boolean => ACTIVE_STATUSES.includes(status);

export interface Ticket {
  id: string;
  title: string;
  price: number;
  version: number;
}

export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  expiresAt: string;
  version: number;
  ticket: Ticket;
}

/** How an order reached its end, kept for the Web UI and the logs. */
export type OrderEnding = 'paid' | 'expired' | 'cancelled-by-user';
