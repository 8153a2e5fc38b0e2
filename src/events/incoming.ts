import { z } from 'zod';
import type { EventPayloads, Subjects } from '../orders/catalogue';

/**
 * The events that other services publish, validated on arrival: a payload that does not parse
 * is set aside by the consumer, never allowed to crash it. Each schema must produce the
 * catalogue's payload type, so the two cannot drift apart.
 */
const id = z.string().min(1);
const version = z.number().int().min(0);

export const TicketCreatedEvent = z.object({
  id,
  version,
  title: z.string(),
  price: z.number().nonnegative(),
  userId: id,
}) satisfies z.ZodType<EventPayloads[typeof Subjects.TicketCreated]>;

export const TicketUpdatedEvent = TicketCreatedEvent.extend({ orderId: id.optional() }) satisfies z.ZodType<
  EventPayloads[typeof Subjects.TicketUpdated]
>;

export const PaymentCreatedEvent = z.object({ id, orderId: id, stripeId: z.string() }) satisfies z.ZodType<
  EventPayloads[typeof Subjects.PaymentCreated]
>;
