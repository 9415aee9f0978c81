/**
 * Container log files read the way the kubelet reads the runtime's files (Kubernetes v1.32.0
 * pkg/kubelet/kuberuntime/logs/logs.go ReadLogs), without ever holding a file in memory (scenario
 * logs may be hundreds of MB):
 *
 * - A CRI line is `<RFC3339Nano time> <stdout|stderr> <P|F> <content>`: the client gets the content
 *   only; a `P` (partial) line continues on the next one. The time is the runtime's, and it is the
 *   only time `sinceSeconds`/`sinceTime` filter on and `timestamps=true` prints (RFC3339Nano,
 *   trailing zeros trimmed, as Go formats it). Text inside a line (a logrus `time=`, a JSON `time`
 *   field, a klog header) never decides anything.
 * - A scenario may also hold plain lines (what `kubectl logs` printed): such a line takes the time
 *   of the line before it, or the container's start for the first lines.
 * - The filters apply in the kubelet's order: `tailLines` (the last N lines of the file), then
 *   since, then `limitBytes`.
 */
import { constants } from 'node:fs';
import { access, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { ChunkWriter } from './reply.js';

const CHUNK = 256 * 1024;
const FLUSH_BYTES = 64 * 1024;

export interface LogReadOptions {
  /** Keep only lines whose time is at or after this instant (ms since epoch). */
  sinceMs?: number;
  tailLines?: number;
  limitBytes?: number;
  /** Prefix each line with its time (RFC3339Nano), as the kubelet does. */
  timestamps?: boolean;
  /** The container's start (ms): the time of plain lines before any CRI line. */
  startedAtMs: number;
}

/** Candidate files for one container's log, most specific first. */
export function logFileCandidates(logsDir: string, namespace: string, pod: string, container: string, isFirstContainer: boolean, previous: boolean): string[] {
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

const CRI_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export interface CriLine {
  /** ms since epoch */
  ms: number;
  /** RFC3339Nano in UTC with trailing zeros trimmed (Go's time.RFC3339Nano). */
  text: string;
  partial: boolean;
  /** Offset of the content in the line. */
  contentStart: number;
}

/** Go's RFC3339Nano of an instant given as ms and a nanosecond fraction. */
export function formatRfc3339Nano(ms: number, nanos: string): string {
  const base = new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19);
  const fraction = nanos.replace(/0+$/, '');
  return `${base}${fraction === '' ? '' : `.${fraction}`}Z`;
}

/** The last time text parsed: consecutive lines mostly share their second. */
const lastTime = { text: '', ms: 0, out: '' };

/** The CRI header of a line (kuberuntime/logs/logs.go parseCRILog), or undefined for a plain line. */
export function parseCriLine(line: Buffer): CriLine | undefined {
  if (line.length < 24 || line[4] !== 0x2d || line[10] !== 0x54) return undefined;
  const sp1 = line.indexOf(0x20);
  if (sp1 === -1 || sp1 > 40) return undefined;
  const timeText = line.toString('latin1', 0, sp1);
  if (timeText !== lastTime.text) {
    const parsed = parseTime(timeText);
    if (!parsed) return undefined;
    Object.assign(lastTime, { text: timeText, ms: parsed.ms, out: parsed.text });
  }
  const streamEnd = line.indexOf(0x20, sp1 + 1);
  if (streamEnd === -1) return undefined;
  const stream = line.toString('latin1', sp1 + 1, streamEnd);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tagEnd = line.indexOf(0x20, streamEnd + 1);
  const tag = line.toString('latin1', streamEnd + 1, tagEnd === -1 ? line.length : tagEnd);
  const first = tag.split(':')[0];
  if (first !== 'P' && first !== 'F') return undefined;
  return { ms: lastTime.ms, text: lastTime.out, partial: first === 'P', contentStart: tagEnd === -1 ? line.length : tagEnd + 1 };
}

function parseTime(text: string): { ms: number; text: string } | undefined {
  const m = CRI_TIME.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1] as string}${m[3] as string}`);
  if (Number.isNaN(ms)) return undefined;
  const nanos = (m[2] ?? '.').slice(1).padEnd(9, '0');
  return { ms: ms + Number(nanos.slice(0, 3)), text: formatRfc3339Nano(ms, nanos) };
}

/** Accumulates output, applies limitBytes and writes in batches with backpressure. */
class Output {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private remaining: number;
  private isStopped = false;

  constructor(
    private readonly write: ChunkWriter,
    limitBytes: number | undefined,
  ) {
    this.remaining = limitBytes ?? Number.POSITIVE_INFINITY;
  }

  get isDone(): boolean {
    return this.isStopped || this.remaining <= 0;
  }

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

/** Offset where the last `lines` lines start, found by scanning backwards in chunks (kubelet tail.FindTailLineStartIndex). */
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

/** Streams one log file to `write` with the kubelet's filters. */
export async function streamLogFile(file: string, options: LogReadOptions, write: ChunkWriter): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const out = new Output(write, options.limitBytes);
    const start = options.tailLines === undefined ? 0 : await tailStart(fh, size, options.tailLines);
    const startText = formatRfc3339Nano(options.startedAtMs, String(Math.round((options.startedAtMs % 1000) * 1e6)).padStart(9, '0'));
    let time = { ms: options.startedAtMs, text: startText };
    let stamp: Buffer | undefined;
    // Whether the next content begins a line (a partial CRI line's continuation does not).
    let atLineStart = true;
    let isContinuationKept = true;
    const emit = (line: Buffer): void => {
      const cri = parseCriLine(line);
      let content = line;
      if (cri) {
        if (cri.text !== time.text) stamp = undefined;
        time = { ms: cri.ms, text: cri.text };
        content = line.subarray(cri.contentStart);
        // A partial line's content does not end the line.
        if (cri.partial && content.at(-1) === 10) content = content.subarray(0, -1);
      }
      const kept = atLineStart ? options.sinceMs === undefined || time.ms >= options.sinceMs : isContinuationKept;
      if (atLineStart) isContinuationKept = kept;
      if (kept) {
        if (options.timestamps && atLineStart) {
          stamp ??= Buffer.from(`${time.text} `);
          out.add(stamp);
        }
        out.add(content);
      }
      atLineStart = !cri?.partial;
    };
    let held: Buffer[] = [];
    let pos = start;
    while (pos < size && !out.isDone) {
      const data = await readAt(fh, pos, Math.min(CHUNK, size - pos));
      if (data.length === 0) break;
      pos += data.length;
      let i = 0;
      while (i < data.length) {
        const nl = data.indexOf(10, i);
        if (nl === -1) {
          held.push(data.subarray(i));
          break;
        }
        const piece = data.subarray(i, nl + 1);
        if (held.length > 0) {
          held.push(piece);
          emit(Buffer.concat(held));
          held = [];
        } else emit(piece);
        i = nl + 1;
      }
      await out.flush();
    }
    if (held.length > 0 && !out.isDone) emit(Buffer.concat(held));
    await out.flush(true);
  } finally {
    await fh.close();
  }
}
