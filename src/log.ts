/**
 * Logging: pino JSON on stderr (stdout belongs to `check`'s report). Secrets never reach a log line:
 * known secret-bearing fields are redacted by pino, and URLs are stripped of credentials before
 * they are logged anywhere.
 */
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'token',
  '*.token',
  'bearerToken',
  '*.bearerToken',
  'password',
  '*.password',
];

export function createLogger(level: LogLevel, destination: pino.DestinationStream = pino.destination({ fd: 2, sync: false })): Logger {
  return pino(
    {
      level,
      base: { name: 'rollout-doctor' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A URL as it may be shown: user and password replaced, query values of secret-looking keys hidden. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw.replace(/\/\/[^/@\s]*@/, '//[redacted]@');
  }
  if (url.username || url.password) {
    url.username = url.username ? '[redacted]' : '';
    url.password = '';
  }
  for (const key of [...url.searchParams.keys()]) {
    if (/token|key|secret|password|auth/i.test(key)) url.searchParams.set(key, '[redacted]');
  }
  return url.toString().replace(/%5Bredacted%5D/g, '[redacted]');
}
