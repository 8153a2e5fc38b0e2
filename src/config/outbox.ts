import { z } from 'zod';

/** The outbox's relay: how often it polls, how long published rows are kept, how long a claim lasts. */
export const outboxVariables = z.object({
  OUTBOX_POLL_MS: z.coerce.number().int().positive().default(100),
  // Published rows are kept this long, then deleted: long enough to look at recent events, and a
  // retried change finds its rows still there (see README); at most a year.
  OUTBOX_RETENTION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(366 * 24)
    .default(24),
  // Each worker's relay claims the oldest unsent rows for this long (README, "Claiming"): a relay
  // that dies holds them this long at most. It publishes from a claim for half of it, and a publish
  // waits up to 5 s for its ack: so 10 s at least.
  OUTBOX_CLAIM_SECONDS: z.coerce.number().int().min(10).max(600).default(30),
});
