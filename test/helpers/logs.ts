/** A pino logger whose lines land in memory, for tests that read what was logged. */
import { Writable } from 'node:stream';
import { createLogger, type Logger, type LogLevel } from '../../src/log.js';

export interface CapturedLog {
  log: Logger;
  lines: () => string[];
  entries: () => Record<string, unknown>[];
}

export function captureLog(level: LogLevel = 'debug'): CapturedLog {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const log = createLogger(level, stream);
  const lines = () => chunks.join('').split('\n').filter(Boolean);
  return { log, lines, entries: () => lines().map((l) => JSON.parse(l) as Record<string, unknown>) };
}
