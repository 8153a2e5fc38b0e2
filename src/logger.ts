import pino, { type Logger } from 'pino';

export type { Logger };

/** One structured logger per process; children add the component name. */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
