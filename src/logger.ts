import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One structured (JSON) logger per process. `LOG_FORMAT=pretty` (set by `npm run dev`)
 * prints readable lines instead, through pino-pretty.
 */
export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  const pretty = process.env.LOG_FORMAT === 'pretty';
  return pino({
    name,
    level,
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' },
          },
        }
      : { base: { pid: process.pid } }),
  });
}
