/**
 * What the Web UI shows of an order's workflow while it runs and once it ended ("Current Details",
 * Markdown). Workflow-safe: plain functions of the workflow's state.
 */
import type { OrderState } from './shared';

export function holding(expiresAt: string, extensions: number): string {
  const extended = extensions > 0 ? ` (extended ${extensions === 1 ? 'once' : `${extensions} times`})` : '';
  return `Waiting for payment until **${expiresAt}**${extended}; the ticket is held until then.`;
}

export function describeEnding(state: OrderState): string {
  switch (state.ending) {
    case 'paid':
      return `Complete: paid by payment ${state.paymentId ?? '(unknown)'}.`;
    case 'expired':
      return `Cancelled: not paid before ${state.expiresAt}; the ticket is free again.`;
    case 'not-recorded':
      return `Cancelled: the order was never recorded (${state.discardReason ?? 'no reason given'}); it never held the ticket.`;
    default:
      return 'Cancelled by the user; the ticket is free again.';
  }
}
