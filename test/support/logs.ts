import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** A real pino logger whose JSON lines a test can read back, parsed, as they are written. */
export function capturingLogger(
  level = 'info',
  options: pino.LoggerOptions = {},
): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as LogLine);
      callback();
    },
  });
  return { logger: pino({ ...options, level }, sink), lines };
}
