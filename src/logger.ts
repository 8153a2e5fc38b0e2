import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/**
 * One structured (JSON) logger per process. `LOG_FORMAT=pretty` (set by `npm run dev`) prints
 * readable lines instead, through pino-pretty.
 */
export function createLogger(name: string, { level, format }: Config['log']): Logger {
  return pino({
    name,
    level,
    ...(format === 'pretty'
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' },
          },
        }
      : { base: { pid: process.pid } }),
  });
}
