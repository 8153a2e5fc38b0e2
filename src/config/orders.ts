import { z } from 'zod';
import { DEFAULT_EXPIRING_REMINDER_SECONDS } from '../orders/order';

/** Orders' holds: how long, how many per user, their extensions and reminder, and a POST's idempotency lease. */
export const orderVariables = z.object({
  ORDER_EXPIRATION_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .max(31 * 24 * 3600)
    .default(900),
  MAX_ACTIVE_ORDERS_PER_USER: z.coerce.number().int().min(1).max(1_000_000).default(10),
  // How long a POST holds its Idempotency-Key before a retry may take over (the attempt died).
  IDEMPOTENCY_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  // POST /api/orders/:orderId/extend: how many times, and by how much each time (at most a day).
  // Off by default: an extension bumps the order's version with `order:updated`, which the course's
  // services do not listen to, and their payments service then never finds its copy of the order
  // at `version - 1` on `order:cancelled` (docs/course-services.md).
  MAX_HOLD_EXTENSIONS: z.coerce.number().int().min(0).max(100).default(0),
  ORDER_EXTENSION_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .max(24 * 3600)
    .default(300),
  // order:expiring this long before an active order's deadline (0: off); at most a day.
  ORDER_EXPIRING_REMINDER_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 3600)
    .default(DEFAULT_EXPIRING_REMINDER_SECONDS),
});
