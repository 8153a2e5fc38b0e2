import { z } from 'zod';

/** Where orders are stored: PostgreSQL at DATABASE_URL, or embedded SQLite in DATA_DIR. */
export const databaseVariables = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL (leave it unset for embedded SQLite)')
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
});
