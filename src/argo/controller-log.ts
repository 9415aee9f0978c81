/**
 * Reading Argo Rollouts controller logs: logrus text lines (`time="..." level=error msg="..."`) and
 * JSON lines (`{"level":"error","msg":"..."}`), the two formats the controller can be set to.
 *
 * Upstream: argo-rollouts cmd/rollouts-controller/main.go `--logformat` (text|json; unknown is text)
 * with logrus v1.9.3's TextFormatter{FullTimestamp: true} and JSONFormatter, whose error field is
 * `error` (logrus.ErrorKey); the same at v1.7.2, v1.8.4, v1.9.1 and v1.10.0-rc1. A line read from a
 * log file may carry the container runtime's CRI timestamp first; it is not the controller's.
 */

/** The CRI runtime's timestamp in front of a logrus line (`2026-11-26T13:40:00Z time=...` or `... {`). */
const RUNTIME_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\S+\s+(?=(time=|\{))/;

export interface LogLine {
  level?: string;
  message: string;
  time?: string;
  raw: string;
}

function unquote(value: string): string {
  try {
    return JSON.parse(value) as string;
  } catch {
    return value.slice(1, -1);
  }
}

export function parseLogLine(raw: string): LogLine {
  const line = raw.replace(RUNTIME_TIMESTAMP, '');
  if (line.startsWith('{')) {
    try {
      const json = JSON.parse(line) as Record<string, unknown>;
      const message = [json.msg, json.error].filter((v) => typeof v === 'string' && v).join(': ');
      return { level: typeof json.level === 'string' ? json.level : undefined, message: message || line, time: typeof json.time === 'string' ? json.time : undefined, raw };
    } catch {
      return { message: line, raw };
    }
  }
  const level = /(?:^|\s)level=(\w+)/.exec(line)?.[1];
  const time = /(?:^|\s)time="([^"]*)"/.exec(line)?.[1];
  const msgMatch = /(?:^|\s)msg=("(?:[^"\\]|\\.)*"|\S+)/.exec(line);
  const errMatch = /(?:^|\s)error=("(?:[^"\\]|\\.)*"|\S+)/.exec(line);
  let message = msgMatch ? (msgMatch[1]!.startsWith('"') ? unquote(msgMatch[1]!) : msgMatch[1]!) : line;
  if (errMatch) {
    const err = errMatch[1]!.startsWith('"') ? unquote(errMatch[1]!) : errMatch[1]!;
    if (!message.includes(err)) message = `${message}: ${err}`;
  }
  return { level, message, time, raw };
}

export function logLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(parseLogLine);
}

/** The last fatal line, else the last error line. */
export function lastFatalOrError(text: string): LogLine | undefined {
  const lines = logLines(text);
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.level === 'fatal' || lines[i]!.level === 'panic') return lines[i];
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.level === 'error') return lines[i];
  return undefined;
}

/** A structured field of a log line as written: a string in logrus text, any JSON value in JSON lines. */
export function logValue(line: LogLine, key: string): unknown {
  const raw = line.raw.replace(RUNTIME_TIMESTAMP, '');
  if (raw.startsWith('{')) {
    try {
      return (JSON.parse(raw) as Record<string, unknown>)[key];
    } catch {
      return undefined;
    }
  }
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`(?:^|\\s)${escaped}=("(?:[^"\\\\]|\\\\.)*"|\\S*)`).exec(raw);
  if (!match) return undefined;
  return match[1]!.startsWith('"') ? unquote(match[1]!) : match[1];
}

/** A string field of a log line (`namespace=litellm` in logrus text, `"namespace":"litellm"` in JSON). */
export function logField(line: LogLine, key: string): string | undefined {
  const value = logValue(line, key);
  return typeof value === 'string' ? value : undefined;
}
