import { z } from 'zod';
import type { EventPayloads, Subjects } from '../orders/catalogue';

/**
 * The events that other services publish, validated on arrival: a payload that does not parse
 * is set aside by the consumer, never allowed to crash it. Each schema must produce the
 * catalogue's payload type, so the two cannot drift apart.
 *
 * Ids are opaque (24-hex ObjectIds today, any other form tomorrow) but sane: 1-128 printable
 * characters, no whitespace or control characters. An id travels on into this service's own
 * events and their `Nats-Msg-Id` headers, where CR/LF or 600 kB would be refused (invariant 8).
 */
const opaqueId = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{C}\p{Z}\s]+$/u, 'must be printable, without whitespace or control characters');
const id = opaqueId(128);
const version = z.number().int().min(0);

export const TicketCreatedEvent = z.object({
  id,
  version,
  title: z.string().max(1000),
  price: z.number().nonnegative(),
  userId: id,
}) satisfies z.ZodType<EventPayloads[typeof Subjects.TicketCreated]>;

export const TicketUpdatedEvent = TicketCreatedEvent.extend({ orderId: id.optional() }) satisfies z.ZodType<
  EventPayloads[typeof Subjects.TicketUpdated]
>;

// Stripe's ids are at most 255 characters.
export const PaymentCreatedEvent = z.object({ id, orderId: id, stripeId: opaqueId(255) }) satisfies z.ZodType<
  EventPayloads[typeof Subjects.PaymentCreated]
>;
