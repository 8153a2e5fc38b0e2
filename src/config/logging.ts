import { z } from 'zod';

export const loggingVariables = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
});

export type LogLevel = z.infer<typeof loggingVariables>['LOG_LEVEL'];
