/**
 * A response body encoded once and served many times: the bytes, and a gzip of them compressed off
 * the event loop while or right after it is rendered. /metrics at 1,000 rollouts is ~10 MB of text that
 * Prometheus and VictoriaMetrics fetch with `Accept-Encoding: gzip`; compressing per scrape, or
 * re-encoding the string per request, would cost each scrape what the cycle already paid.
 *
 * Neutral ground: the metrics and the /health renderers build their bodies here, and the HTTP layer
 * only sends them (src/http/encoded.ts).
 */
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, createGzip, type Gzip, gunzipSync, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/** Bodies smaller than this are not worth compressing (and are kept as they are). */
const COMPRESS_FROM_BYTES = 8 * 1024;

/**
 * zlib's output chunk: the compression runs on the thread pool until its output buffer is full,
 * then hands it to the event loop and waits for it there. With the default 16 kB, the ~250 kB gzip
 * of /metrics at 1,000 Rollouts took ~16 such turns, each waiting behind a slice of the cycle: about
 * 200 ms instead of 120 ms until it was ready. One turn per MB of output.
 */
const GZIP_CHUNK_BYTES = 1024 * 1024;

/**
 * A body from this size on is kept only as its gzip (see EncodedBody); a smaller one keeps its
 * identity beside it. Inflating per request costs a zlib stream each time: the homelab's 33 KB
 * /health served to clients without gzip (curl, autocannon) fell from 0.74 to 0.33 times a bare
 * route's requests per second (`npm run bench -- --only http`), for ~130 KB of memory saved. At
 * 512 KB two bodies, each with the previous one beside it, keep at most 2 MB of identity.
 */
const KEEP_IDENTITY_BELOW_BYTES = 512 * 1024;

/** The pieces an identity answer is inflated into, on the thread pool, for the socket. */
const GUNZIP_CHUNK_BYTES = 64 * 1024;

/**
 * A large body (KEEP_IDENTITY_BELOW_BYTES and more) is kept only as its gzip: /health (~6 MB) and
 * /metrics (4.4 MB) at 1,000 Rollouts were kept twice, identity and gzip, and the previous cycle's
 * beside the new ones until their gzip was ready: ~29 MB of array buffers for the ~0.6 MB that
 * scrapers and health polls (gzip) read. The rare client that does not take gzip gets the identity
 * inflated as it is sent (inflate): zlib works on the thread pool, the event loop only passes 64 kB
 * pieces on.
 */
export class EncodedBody {
  /** Bytes of the identity: an identity answer's Content-Length. */
  readonly length: number;
  /** The identity: a body's below KEEP_IDENTITY_BELOW_BYTES; a larger one's until its gzip is ready. */
  private kept?: Buffer;
  private gzipped?: Buffer;
  /**
   * Settles once the gzip is ready (or was not made: a small body, a zlib error). The renderers
   * publish a body only then, so a client that takes gzip is never sent the megabytes of the
   * identity because the newest render's gzip is still being made: it gets the previous one.
   */
  readonly ready: Promise<void>;

  private constructor(length: number, kept: Buffer | undefined, gzipped: Promise<Buffer | undefined> | undefined) {
    this.length = length;
    this.kept = kept;
    this.ready = gzipped ? this.keepGzip(gzipped) : Promise.resolve();
  }

  /**
   * A body of these bytes: gzipped on the thread pool from COMPRESS_FROM_BYTES on, kept only as its
   * gzip from KEEP_IDENTITY_BELOW_BYTES on.
   */
  static of(content: string | Buffer): EncodedBody {
    const identity = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const gzipped = identity.length < COMPRESS_FROM_BYTES ? undefined : gzipAsync(identity, { level: 6, chunkSize: GZIP_CHUNK_BYTES });
    return new EncodedBody(identity.length, identity, gzipped);
  }

  /**
   * A body of `length` bytes whose gzip was made while it was written (BodyBuilder): with its
   * `identity` when it is below KEEP_IDENTITY_BELOW_BYTES, otherwise never held whole.
   */
  static fromGzip(length: number, gzipped: Promise<Buffer | undefined>, identity?: Buffer): EncodedBody {
    return new EncodedBody(length, identity, gzipped);
  }

  private keepGzip(gzipped: Promise<Buffer | undefined>): Promise<void> {
    return gzipped.then(
      (compressed) => {
        if (!compressed) return;
        this.gzipped = compressed;
        if (this.length >= KEEP_IDENTITY_BELOW_BYTES) this.kept = undefined;
      },
      () => undefined,
    );
  }

  /** The gzip, once it is ready. */
  get gzip(): Buffer | undefined {
    return this.gzipped;
  }

  /** The identity bytes, when they are kept (a body below KEEP_IDENTITY_BELOW_BYTES; a larger one until its gzip is ready). */
  get identity(): Buffer | undefined {
    return this.kept;
  }

  /**
   * Whether it can be served: false only for a body made while written whose gzip failed (zlib
   * could not allocate its state); the renderers then keep serving the previous one.
   */
  get isComplete(): boolean {
    return this.kept !== undefined || this.gzipped !== undefined;
  }

  /** The identity of a body kept only as its gzip, inflated on the thread pool piece by piece. */
  inflate(): Readable {
    const stream = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
    stream.end(this.gzipped);
    return stream;
  }

  /** The whole identity as text, at once (the CLI's output and tests; never on a request's path). */
  text(): string {
    if (this.kept) return this.kept.toString('utf8');
    if (!this.gzipped) throw new Error('the body is kept only as its gzip, which is not ready');
    return gunzipSync(this.gzipped).toString('utf8');
  }
}

/** Pending text is turned into bytes once it reaches this many characters. */
const FLUSH_AT_CHARS = 64 * 1024;

/**
 * Builds a large body as bytes, piece by piece: written strings are collected into short runs that
 * become Buffers as they fill, so a multi-MB body never exists as one JavaScript string (nor as the
 * hundreds of thousands of rope nodes that joining its pieces makes). With `gzipWhileWriting` the
 * Buffers go to the gzip stream and are not kept once the body is past KEEP_IDENTITY_BELOW_BYTES:
 * the body exists only as its gzip (see EncodedBody).
 */
export class BodyBuilder {
  /** The bytes written so far; dropped as they are written once a body made with its gzip is large. */
  private parts: Buffer[] = [];
  private pending = '';
  private bytes = 0;
  private readonly gzipping?: { stream: Gzip; done: Promise<Buffer | undefined> };

  /**
   * `gzipWhileWriting`: compress the bytes on the thread pool as they are written (the same bytes as
   * compressing them at the end), so the gzip is ready about when the render is, not 100-150 ms later
   * (/health's 6 MB at 1,000 Rollouts): a renderer publishes a body once its gzip is ready.
   */
  constructor(options: { gzipWhileWriting?: boolean } = {}) {
    if (!options.gzipWhileWriting) return;
    const stream = createGzip({ level: 6, chunkSize: GZIP_CHUNK_BYTES });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const done = new Promise<Buffer | undefined>((resolve) => {
      stream.on('end', () => resolve(Buffer.concat(chunks)));
      stream.on('error', () => resolve(undefined));
    });
    this.gzipping = { stream, done };
  }

  write(text: string): void {
    this.pending += text;
    if (this.pending.length >= FLUSH_AT_CHARS) this.flush();
  }

  private flush(): void {
    if (this.pending === '') return;
    const part = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    this.bytes += part.length;
    if (!this.gzipping) {
      this.parts.push(part);
      return;
    }
    this.gzipping.stream.write(part);
    if (this.bytes < KEEP_IDENTITY_BELOW_BYTES) this.parts.push(part);
    else this.parts = [];
  }

  /** The bytes written so far, as one Buffer (a body made with its gzip: only while it is small). */
  toBuffer(): Buffer {
    this.flush();
    if (this.gzipping && this.bytes >= KEEP_IDENTITY_BELOW_BYTES) throw new Error('a large body written with its gzip is kept only as the gzip');
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bytes);
  }

  /**
   * The body. Written with its gzip: a large one as the gzip alone (EncodedBody.fromGzip), ready when
   * zlib has the last bytes compressed; a middling one as its bytes and that gzip; a small one as its
   * bytes, without a gzip (its stream closed).
   */
  finish(): EncodedBody {
    if (!this.gzipping) return EncodedBody.of(this.toBuffer());
    this.flush();
    if (this.bytes < COMPRESS_FROM_BYTES) {
      this.discard();
      return EncodedBody.of(Buffer.concat(this.parts, this.bytes));
    }
    this.gzipping.stream.end();
    const identity = this.bytes < KEEP_IDENTITY_BELOW_BYTES ? Buffer.concat(this.parts, this.bytes) : undefined;
    return EncodedBody.fromGzip(this.bytes, this.gzipping.done, identity);
  }

  /**
   * Writes the body through `fill`; if `fill` throws, the body is discarded (see discard) and the
   * error passed on, so a renderer cannot leave a gzip stream open behind a failed render.
   */
  async fill(fill: (write: (text: string) => void) => Promise<void>): Promise<void> {
    try {
      await fill((text) => this.write(text));
    } catch (error) {
      this.discard();
      throw error;
    }
  }

  /**
   * Drops a body that will not be finished (a newer render won, or the render threw): the gzip
   * stream made while writing is closed rather than left holding its zlib state until collected.
   */
  discard(): void {
    this.gzipping?.stream.destroy();
  }
}
