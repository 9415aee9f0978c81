/**
 * Pod logs served from files without ever holding a file in memory (scenario logs may be
 * hundreds of MB): tailLines scans backwards from the end in chunks, sinceSeconds streams line by
 * line, limitBytes stops reading. Filters apply in the kubelet's order: since, tail, limit.
 */
import { constants } from 'node:fs';
import { access, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

const CHUNK = 256 * 1024;
const FLUSH_BYTES = 64 * 1024;
/** How much of a line is searched for its timestamp. */
const PREFIX = 1024;

/** Writes a chunk to the client; resolves false when the client went away. */
export type LogWriter = (chunk: Buffer) => Promise<boolean>;

export interface LogReadOptions {
  /** Keep only lines whose timestamp is at or after this instant (ms since epoch). */
  sinceMs?: number;
  tailLines?: number;
  limitBytes?: number;
  /** Prefix each line with its RFC 3339 timestamp (9 fraction digits), as the kubelet does. */
  timestamps?: boolean;
}

/** Candidate files for one container's log, most specific first. */
export function logFileCandidates(
  logsDir: string,
  namespace: string,
  pod: string,
  container: string,
  isFirstContainer: boolean,
  previous: boolean,
): string[] {
  const suffix = previous ? '.previous.log' : '.log';
  const dir = path.join(logsDir, namespace);
  const out = [path.join(dir, `${pod}.${container}${suffix}`)];
  if (isFirstContainer) out.push(path.join(dir, `${pod}${suffix}`));
  return out;
}

export async function firstExisting(files: string[]): Promise<string | undefined> {
  for (const f of files) {
    try {
      await access(f, constants.R_OK);
      return f;
    } catch {
      // try the next naming rule
    }
  }
  return undefined;
}

const TIME_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/;
const LOGRUS_KEY = Buffer.from('time="');
/** Longest RFC 3339 text we look at: date, time, 9 fraction digits, offset. */
const TIME_MAX = 35;

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

/**
 * The timestamp text a log line starts with (RFC 3339, followed by a space or the line end) or
 * carries as a logrus `time="..."` field. Works on bytes so that most lines are never decoded.
 */
export function lineTimeText(line: Buffer): string | undefined {
  if (isDigit(line[0]) && line[4] === 0x2d && line[10] === 0x54) {
    const m = TIME_TEXT.exec(line.toString('latin1', 0, Math.min(line.length, TIME_MAX + 1)));
    if (!m) return undefined;
    const after = line[m[0].length];
    return after === undefined || after === 0x20 || after === 0x09 || after === 0x0a || after === 0x0d ? m[0] : undefined;
  }
  const key = line.indexOf(LOGRUS_KEY);
  if (key === -1 || (key > 0 && line[key - 1] !== 0x20 && line[key - 1] !== 0x09)) return undefined;
  const start = key + LOGRUS_KEY.length;
  const m = TIME_TEXT.exec(line.toString('latin1', start, Math.min(line.length, start + TIME_MAX + 1)));
  return m && line[start + m[0].length] === 0x22 ? m[0] : undefined;
}

export interface LineTime {
  ms: number;
  /** RFC 3339 in UTC with 9 fraction digits, as the kubelet prints with timestamps=true. */
  text: string;
}

/** Parses a timestamp text from lineTimeText (fraction digits kept to the nanosecond). */
export function parseLineTime(text: string): LineTime | undefined {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  const fraction = (TIME_TEXT.exec(text)?.[1] ?? '.').slice(1).padEnd(9, '0').slice(0, 9);
  return { ms, text: formatSeconds(ms, fraction) };
}

/** The timestamp of a log line, if it has one (see lineTimeText). */
export function lineTimestamp(line: string | Buffer): LineTime | undefined {
  const text = lineTimeText(typeof line === 'string' ? Buffer.from(line) : line);
  return text === undefined ? undefined : parseLineTime(text);
}

function formatSeconds(ms: number, fraction9: string): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}.${fraction9}Z`;
}

/** Accumulates output, applies limitBytes and writes in batches with backpressure. */
class Output {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private remaining: number;
  private isStopped = false;

  constructor(
    private readonly write: LogWriter,
    limitBytes: number | undefined,
  ) {
    this.remaining = limitBytes ?? Number.POSITIVE_INFINITY;
  }

  /** No more output is wanted (limit reached or client gone). */
  get isDone(): boolean {
    return this.isStopped || this.remaining <= 0;
  }

  /** Queues bytes; the caller must not reuse `buf` afterwards. */
  add(buf: Buffer): void {
    if (this.remaining <= 0 || buf.length === 0) return;
    const piece = buf.length > this.remaining ? buf.subarray(0, this.remaining) : buf;
    this.remaining -= piece.length;
    this.pending.push(piece);
    this.pendingBytes += piece.length;
  }

  async flush(force = false): Promise<void> {
    if (this.isStopped || this.pendingBytes === 0) return;
    if (!force && this.pendingBytes < FLUSH_BYTES && this.remaining > 0) return;
    const body = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (!(await this.write(body))) this.isStopped = true;
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  // A fresh buffer per read: queued output keeps references to it.
  const buf = Buffer.allocUnsafe(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

async function copyRange(fh: FileHandle, start: number, end: number, out: Output): Promise<void> {
  let pos = start;
  while (pos < end && !out.isDone) {
    const data = await readAt(fh, pos, Math.min(CHUNK, end - pos));
    if (data.length === 0) break;
    out.add(data);
    await out.flush(true);
    pos += data.length;
  }
}

/** Offset where the last `lines` lines start, found by scanning backwards in chunks. */
export async function tailStart(fh: FileHandle, size: number, lines: number): Promise<number> {
  if (lines <= 0) return size;
  if (size === 0) return 0;
  const buf = Buffer.allocUnsafe(CHUNK);
  const last = Buffer.allocUnsafe(1);
  await fh.read(last, 0, 1, size - 1);
  // A final newline ends the last line; it does not start an empty one.
  let pos = last[0] === 10 ? size - 1 : size;
  let count = 0;
  while (pos > 0) {
    const len = Math.min(CHUNK, pos);
    const start = pos - len;
    const { bytesRead } = await fh.read(buf, 0, len, start);
    let i = bytesRead - 1;
    while (i >= 0) {
      const nl = buf.lastIndexOf(10, i);
      if (nl === -1) break;
      count++;
      if (count === lines) return start + nl + 1;
      i = nl - 1;
    }
    pos = start;
  }
  return 0;
}

interface LineDecision {
  isKept: boolean;
  stamp: Buffer | undefined;
}

/** Keeps the last N kept lines as file ranges (never their bytes). */
class RangeRing {
  starts: number[] = [];
  ends: number[] = [];
  stamps: (Buffer | undefined)[] = [];
  head = 0;

  constructor(private readonly capacity: number) {}

  push(start: number, end: number, stamp: Buffer | undefined): void {
    if (this.capacity <= 0) return;
    this.starts.push(start);
    this.ends.push(end);
    this.stamps.push(stamp);
    if (this.starts.length - this.head > this.capacity) this.head++;
    if (this.head > 65536 && this.head * 2 > this.starts.length) {
      this.starts.splice(0, this.head);
      this.ends.splice(0, this.head);
      this.stamps.splice(0, this.head);
      this.head = 0;
    }
  }
}

/**
 * Streams lines from `start` deciding each one on its first bytes. Kept lines go to `out`
 * directly (runs of consecutive kept lines as one slice), or, with `ring`, are remembered as
 * ranges for tailLines to print afterwards.
 */
async function forwardLines(
  fh: FileHandle,
  start: number,
  size: number,
  decide: (prefix: Buffer) => LineDecision,
  out: Output,
  ring: RangeRing | undefined,
): Promise<void> {
  let lineStart = start;
  // Pieces of a line that started in an earlier chunk and is still undecided.
  let held: Buffer[] = [];
  let heldBytes = 0;
  let decision: LineDecision | undefined;
  const emitHeld = (d: LineDecision): void => {
    if (!ring && d.isKept) {
      if (d.stamp) out.add(d.stamp);
      for (const h of held) out.add(h);
    }
    held = [];
    heldBytes = 0;
  };
  let pos = start;
  while (pos < size) {
    const data = await readAt(fh, pos, Math.min(CHUNK, size - pos));
    if (data.length === 0) break;
    let runStart = -1;
    const flushRun = (to: number): void => {
      if (runStart >= 0 && to > runStart) out.add(data.subarray(runStart, to));
      runStart = -1;
    };
    let i = 0;
    while (i < data.length) {
      const nl = data.indexOf(10, i);
      const end = nl === -1 ? data.length : nl + 1;
      if (decision) {
        // The rest of a line decided in an earlier chunk.
        if (!ring && decision.isKept) {
          if (runStart < 0) runStart = i;
        } else {
          flushRun(i);
        }
      } else if (heldBytes === 0 && (nl !== -1 || end - i >= PREFIX)) {
        decision = decide(data.subarray(i, Math.min(end, i + PREFIX)));
        if (!ring && decision.isKept) {
          if (decision.stamp) {
            flushRun(i);
            out.add(decision.stamp);
          }
          if (runStart < 0) runStart = i;
        } else {
          flushRun(i);
        }
      } else {
        held.push(data.subarray(i, end));
        heldBytes += end - i;
        if (nl !== -1 || heldBytes >= PREFIX) {
          flushRun(i);
          decision = decide(Buffer.concat(held, heldBytes).subarray(0, PREFIX));
          emitHeld(decision);
        }
      }
      if (nl !== -1) {
        if (ring && decision?.isKept) ring.push(lineStart, pos + end, decision.stamp);
        lineStart = pos + end;
        decision = undefined;
      }
      i = end;
    }
    flushRun(data.length);
    pos += data.length;
    if (!ring) {
      await out.flush();
      if (out.isDone) return;
    }
  }
  if (lineStart < pos) {
    if (!decision) {
      decision = decide(Buffer.concat(held, heldBytes).subarray(0, PREFIX));
      emitHeld(decision);
    }
    if (ring && decision.isKept) ring.push(lineStart, pos, decision.stamp);
  }
}

async function printRing(fh: FileHandle, ring: RangeRing, out: Output): Promise<void> {
  let i = ring.head;
  const n = ring.starts.length;
  while (i < n && !out.isDone) {
    const stamp = ring.stamps[i];
    if (stamp) {
      out.add(stamp);
      await copyRange(fh, ring.starts[i] as number, ring.ends[i] as number, out);
      i++;
      continue;
    }
    // Adjacent unstamped lines are one contiguous read.
    const start = ring.starts[i] as number;
    let end = ring.ends[i] as number;
    i++;
    while (i < n && !ring.stamps[i] && ring.starts[i] === end) end = ring.ends[i++] as number;
    await copyRange(fh, start, end, out);
  }
}

/** Streams one log file to `write` with the kubelet's filters. */
export async function streamLogFile(file: string, options: LogReadOptions, write: LogWriter): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const stat = await fh.stat();
    const size = stat.size;
    const out = new Output(write, options.limitBytes);
    const tail = options.tailLines;
    if (options.sinceMs === undefined && !options.timestamps) {
      const start = tail === undefined ? 0 : await tailStart(fh, size, tail);
      await copyRange(fh, start, size, out);
    } else {
      const since = options.sinceMs;
      let lastText = '';
      let lastTime: LineTime | undefined;
      let lastStamp = Buffer.from(`${formatSeconds(stat.mtimeMs, '000000000')} `);
      const decide = (prefix: Buffer): LineDecision => {
        const text = lineTimeText(prefix);
        // Consecutive lines often share a timestamp: parse each distinct text once.
        if (text !== undefined && text !== lastText) {
          lastText = text;
          lastTime = parseLineTime(text);
          if (lastTime && options.timestamps) lastStamp = Buffer.from(`${lastTime.text} `);
        }
        const ts = text === undefined ? undefined : lastTime;
        const isKept = since === undefined || (ts !== undefined && ts.ms >= since);
        // Lines without a time of their own get the last one seen (or the file's mtime).
        return { isKept, stamp: options.timestamps ? lastStamp : undefined };
      };
      if (since === undefined) {
        const start = tail === undefined ? 0 : await tailStart(fh, size, tail);
        await forwardLines(fh, start, size, decide, out, undefined);
      } else if (tail === undefined) {
        await forwardLines(fh, 0, size, decide, out, undefined);
      } else {
        const ring = new RangeRing(tail);
        await forwardLines(fh, 0, size, decide, out, ring);
        await printRing(fh, ring, out);
      }
    }
    await out.flush(true);
  } finally {
    await fh.close();
  }
}
