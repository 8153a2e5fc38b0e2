import { z } from 'zod';

/** The event bus: NATS JetStream's servers and the stream the service publishes to and consumes from. */
export const natsVariables = z.object({
  /** One server, or a cluster's servers separated by commas (the client fails over between them). */
  NATS_URL: z
    .string()
    .regex(/^[^,\s]+(,[^,\s]+)*$/, 'NATS_URL must be a URL, or URLs separated by commas (no spaces)')
    .default('nats://127.0.0.1:4222'),
  NATS_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'NATS_STREAM may hold letters, digits, - and _ only')
    .default('ticketing'),
  /** Copies of the stream in a NATS cluster (3 survives one node down); set when the worker creates it, or scaled. */
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
});
