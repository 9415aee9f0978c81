/**
 * A response body encoded once and served many times: the bytes, and a gzip of them compressed off
 * the event loop while or right after it is rendered. /metrics at 1,000 rollouts is ~10 MB of text that
 * Prometheus and VictoriaMetrics fetch with `Accept-Encoding: gzip`; compressing per scrape, or
 * re-encoding the string per request, would cost each scrape what the cycle already paid.
 *
 * Neutral ground: the metrics and the /health renderers build their bodies here, and the HTTP layer
 * only sends them (src/http/encoded.ts).
 */
import { promisify } from 'node:util';
import { createGzip, type Gzip, gzip } from 'node:zlib';
import { turnIfDue } from './slices.js';

const gzipAsync = promisify(gzip);

/** Bodies smaller than this are not worth compressing. */
const COMPRESS_FROM_BYTES = 8 * 1024;

/**
 * zlib's output chunk: the compression runs on the thread pool until its output buffer is full,
 * then hands it to the event loop and waits for it there. With the default 16 kB, the ~250 kB gzip
 * of /metrics at 1,000 Rollouts took ~16 such turns, each waiting behind a slice of the cycle: about
 * 200 ms instead of 120 ms until it was ready. One turn per MB of output.
 */
const GZIP_CHUNK_BYTES = 1024 * 1024;

export class EncodedBody {
  readonly identity: Buffer;
  private gzipped?: Buffer;
  /**
   * Settles once the gzip is ready (or was not made: a small body, a zlib error). The renderers
   * publish a body only then, so a client that takes gzip is never sent the megabytes of the
   * identity because the newest render's gzip is still being made: it gets the previous one.
   */
  readonly ready: Promise<void>;

  /** `gzipped`: the gzip of these bytes made while they were written (BodyBuilder), if it was. */
  constructor(content: string | Buffer, gzipped?: Promise<Buffer | undefined>) {
    this.identity = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    this.ready =
      this.identity.length < COMPRESS_FROM_BYTES
        ? Promise.resolve()
        : (gzipped ?? gzipAsync(this.identity, { level: 6, chunkSize: GZIP_CHUNK_BYTES })).then(
            (compressed) => {
              this.gzipped = compressed;
            },
            () => undefined,
          );
  }

  /** The gzip, once it is ready (until then the identity bytes are served). */
  get gzip(): Buffer | undefined {
    return this.gzipped;
  }
}

/** Pending text is turned into bytes once it reaches this many characters. */
const FLUSH_AT_CHARS = 64 * 1024;

/**
 * Builds a large body as bytes, piece by piece: written strings are collected into short runs that
 * become Buffers as they fill, so a multi-MB body never exists as one JavaScript string (nor as the
 * hundreds of thousands of rope nodes that joining its pieces makes). At 1,000 rollouts that is
 * ~17 MB of strings a cycle (/metrics, /health JSON and text) the heap no longer holds next to the
 * bytes that are served.
 */
export class BodyBuilder {
  private readonly parts: Buffer[] = [];
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
    this.parts.push(part);
    this.gzipping?.stream.write(part);
    this.bytes += part.length;
    this.pending = '';
  }

  /** The bytes written so far, as one Buffer. */
  toBuffer(): Buffer {
    this.flush();
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bytes);
  }

  finish(): EncodedBody {
    return new EncodedBody(this.toBuffer(), this.gzipped());
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

  /** The gzip made while writing, once the last bytes are in (undefined when not asked for). */
  private gzipped(): Promise<Buffer | undefined> | undefined {
    this.flush();
    this.gzipping?.stream.end();
    return this.gzipping?.done;
  }

  /**
   * finish, copying the pieces into the one Buffer in slices (src/slices.ts): the copy of /health's
   * ~8 MB at 1,000 Rollouts in one go (Buffer.concat) was a 35 ms block in a CPU profile.
   */
  async finishInSlices(): Promise<EncodedBody> {
    const gzipped = this.gzipped();
    if (this.parts.length === 1) return new EncodedBody(this.parts[0]!, gzipped);
    const whole = Buffer.allocUnsafe(this.bytes);
    let offset = 0;
    for (const part of this.parts) {
      offset += part.copy(whole, offset);
      await turnIfDue();
    }
    return new EncodedBody(whole, gzipped);
  }
}
