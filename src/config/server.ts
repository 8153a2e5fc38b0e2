import { z } from 'zod';

export const port = z.coerce.number().int().min(0).max(65535);

/** The processes' own ports, and the secret the API checks its tokens with. */
export const serverVariables = z.object({
  PORT: port.default(3000),
  WORKER_HEALTH_PORT: port.default(3001),
  JWT_KEY: z
    .string({ error: 'JWT_KEY is required: the HS256 secret shared with the auth service' })
    .min(1, 'JWT_KEY must not be empty'),
});
