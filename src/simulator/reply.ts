/**
 * Where an answer goes (the socket, or a buffer for the truncate fault) and how request bodies are
 * read. Bodies are written with backpressure so that a list of 50,000 objects or a 300 MB log is
 * never held twice.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestLogEntry } from './types.js';
import { ApiError } from './status.js';

export const JSON_TYPE = 'application/json';
export const TEXT_TYPE = 'text/plain; charset=utf-8';
/** kube-apiserver's limit for a request body: 3 MB. */
const MAX_REQUEST_BODY = 3 * 1024 * 1024;

/** Writes a chunk to the client; resolves false when the client went away. */
export type ChunkWriter = (chunk: Buffer) => Promise<boolean>;

export interface Reply {
  send(status: number, contentType: string, body: Buffer | string, headers?: Record<string, string>): void;
  /** Streams a body of known or unknown length; `produce` gets a writer honouring backpressure. */
  stream(status: number, contentType: string, contentLength: number | undefined, produce: (write: ChunkWriter) => Promise<void>): Promise<void>;
  readonly hasStarted: boolean;
  /** Resolves when the client goes away (watches end then). */
  readonly closed: Promise<void>;
}

function waitForDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export class HttpReply implements Reply {
  hasStarted = false;
  readonly closed: Promise<void>;

  constructor(
    private readonly res: ServerResponse,
    private readonly entry: RequestLogEntry,
  ) {
    this.closed = new Promise((resolve) => res.once('close', () => resolve()));
  }

  send(status: number, contentType: string, body: Buffer | string, headers: Record<string, string> = {}): void {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    this.hasStarted = true;
    this.entry.status = status;
    this.res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': String(buf.length) });
    this.entry.bytes += buf.length;
    this.res.end(buf);
  }

  async stream(status: number, contentType: string, contentLength: number | undefined, produce: (write: ChunkWriter) => Promise<void>): Promise<void> {
    const res = this.res;
    this.hasStarted = true;
    this.entry.status = status;
    const headers: Record<string, string> = { 'content-type': contentType };
    if (contentLength !== undefined) headers['content-length'] = String(contentLength);
    else headers['transfer-encoding'] = 'chunked';
    res.writeHead(status, headers);
    // Streams of unknown length (watches, followed logs) reach the client as they are written.
    if (contentLength === undefined) res.flushHeaders();
    await produce(async (chunk) => {
      if (res.destroyed) return false;
      this.entry.bytes += chunk.length;
      if (!res.write(chunk)) await waitForDrain(res);
      return !res.destroyed;
    });
    if (!res.destroyed) res.end();
  }
}

/** Collects an answer so that the truncate fault can send half of it. */
export class BufferReply implements Reply {
  hasStarted = false;
  status = 200;
  contentType = JSON_TYPE;
  headers: Record<string, string> = {};
  chunks: Buffer[] = [];
  readonly closed = new Promise<void>(() => undefined);

  send(status: number, contentType: string, body: Buffer | string, headers: Record<string, string> = {}): void {
    this.hasStarted = true;
    this.status = status;
    this.contentType = contentType;
    this.headers = headers;
    this.chunks.push(typeof body === 'string' ? Buffer.from(body) : body);
  }

  async stream(status: number, contentType: string, _contentLength: number | undefined, produce: (write: ChunkWriter) => Promise<void>): Promise<void> {
    this.hasStarted = true;
    this.status = status;
    this.contentType = contentType;
    await produce(async (chunk) => {
      this.chunks.push(chunk);
      return true;
    });
  }
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BODY) {
        // apiserver/pkg/endpoints/handlers/rest.go limitedReadBody and config.go MaxRequestBodyBytes, v0.32.0 (Kubernetes v1.32.0).
        reject(new ApiError(413, `Request entity too large: limit is ${MAX_REQUEST_BODY}`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Whether the client asks for a server-side Table (kubectl get): an Accept entry
 * `application/json;as=Table;v=v1;g=meta.k8s.io` (v1beta1 too), taken when it comes before plain JSON.
 */
export function wantsTable(accept: string | undefined): boolean {
  for (const part of (accept ?? '').split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((kv) => kv.split('=').map((s) => s.trim()) as [string, string]));
    if (type === 'application/json' && p['as'] === 'Table' && p['g'] === 'meta.k8s.io' && (p['v'] === 'v1' || p['v'] === 'v1beta1')) return true;
    if (type === 'application/json' && p['as'] === undefined) return false;
    if (type === '*/*') return false;
  }
  return false;
}
