/**
 * Outbound HTTP for endpoint probes and analysis queries, on undici. Every request is bounded (a
 * deadline, a body cap, a redirect limit), classifies its failure (refused, timeout, reset, TLS, DNS,
 * redirect loop) so an operator knows where to look, and in a simulation never leaves loopback:
 * the target's resolved address is checked at connect time, after every redirect too.
 */
import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { redactUrl } from '../log.js';
import { errorCode, TLS_ERROR_CODE } from '../net-errors.js';

export type ProbeErrorClass = 'refused' | 'timeout' | 'reset' | 'tls' | 'dns' | 'redirect' | 'blocked' | 'error';

export interface ProbeRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Verify the server's TLS certificate (default true). */
  tlsVerify?: boolean;
  /** Body bytes kept; the rest is not read (default 1 MiB). */
  maxBodyBytes?: number;
  /** Redirects followed (default 5). */
  maxRedirects?: number;
  signal?: AbortSignal;
}

export type ProbeResult =
  | {
      ok: true;
      status: number;
      headers: Record<string, string>;
      body: string;
      bodyTruncated: boolean;
      durationMs: number;
      redirects: number;
    }
  | { ok: false; errorClass: ProbeErrorClass; message: string; durationMs: number };

export interface Prober {
  request(probe: ProbeRequest): Promise<ProbeResult>;
}

/**
 * Where probes may go, handed in by whoever starts rollout-doctor (a simulation keeps them on
 * loopback): the prober itself knows nothing of simulations.
 */
export interface OutboundPolicy {
  /**
   * Refuse any destination outside 127.0.0.0/8 and ::1. Host names are then not resolved at all (a
   * DNS query would leave the machine), except `localhost` and a `lookup` a test injects.
   */
  loopbackOnly: boolean;
  /** Name resolution; tests inject failures here so no real DNS query leaves the machine. */
  lookup?: LookupFunction;
  /**
   * Origins (`http://host:port`) to connect to elsewhere: a simulation's fake apps declared at
   * fixed addresses but listening on ephemeral ports. What is reported stays the declared URL.
   */
  origins?: ReadonlyMap<string, string>;
}

/** The policy of a daemon against a real cluster: probes go where the config says. */
export const OPEN_OUTBOUND: OutboundPolicy = { loopbackOnly: false };

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export function isLoopbackAddress(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith('127.');
  const lower = address.toLowerCase();
  return lower === '::1' || lower === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(lower);
}

class BlockedDestination extends Error {
  readonly code = 'EBLOCKED';
  constructor(host: string) {
    super(`${host} is outside loopback: not contacted in simulation`);
  }
}

/** Wraps a lookup so that a non-loopback answer fails the connection before it is made. */
function loopbackLookup(inner: LookupFunction): LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    inner(hostname, options, ((error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => {
      if (error) return callback(error);
      const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
      if (addresses.some((a) => !isLoopbackAddress(a))) return callback(new BlockedDestination(hostname));
      callback(null, address, family);
    }) as never);
  }) as LookupFunction;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** In simulation only `localhost` names resolve; anything else would be a DNS query off the machine. */
const noExternalLookup: LookupFunction = ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) {
    const all = (options as { all?: boolean }).all;
    if (all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
    return;
  }
  callback(Object.assign(new Error(`${hostname}: host names are not resolved in simulation: not contacted in simulation`), { code: 'EBLOCKED' }));
}) as LookupFunction;

function classify(error: unknown, timedOut: boolean): { errorClass: ProbeErrorClass; message: string } {
  const code = errorCode(error) ?? '';
  const text = error instanceof Error ? error.message : String(error);
  if (code === 'EBLOCKED') return { errorClass: 'blocked', message: text };
  if (timedOut || /TIMEOUT/.test(code)) return { errorClass: 'timeout', message: 'no answer within the timeout' };
  if (code === 'ECONNREFUSED') return { errorClass: 'refused', message: 'connection refused' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NODATA') {
    return { errorClass: 'dns', message: `name resolution failed (${code})` };
  }
  if (TLS_ERROR_CODE.test(code) || /SSL|TLS|certificate/i.test(text)) {
    return { errorClass: 'tls', message: `TLS error (${code || text})` };
  }
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || text === 'terminated') {
    return { errorClass: 'reset', message: 'connection reset by the server' };
  }
  return { errorClass: 'error', message: code ? `${code}` : text.slice(0, 200) };
}

export class HttpProber implements Prober {
  private readonly agents = new Map<boolean, Agent>();

  constructor(private readonly options: OutboundPolicy) {}

  private agent(tlsVerify: boolean): Agent {
    let agent = this.agents.get(tlsVerify);
    if (!agent) {
      const base = this.options.lookup ?? (this.options.loopbackOnly ? noExternalLookup : (dns.lookup as unknown as LookupFunction));
      const lookup = this.options.loopbackOnly ? loopbackLookup(base) : base;
      agent = new Agent({ connect: { lookup, rejectUnauthorized: tlsVerify }, keepAliveTimeout: 4000 });
      this.agents.set(tlsVerify, agent);
    }
    return agent;
  }

  async request(probe: ProbeRequest): Promise<ProbeResult> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
    const maxRedirects = probe.maxRedirects ?? 5;
    const maxBodyBytes = probe.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, probe.timeoutMs);
    const onAbort = () => controller.abort();
    probe.signal?.addEventListener('abort', onAbort, { once: true });
    if (probe.signal?.aborted) controller.abort();
    try {
      let target: URL;
      try {
        target = new URL(probe.url);
      } catch {
        return { ok: false, errorClass: 'error', message: `invalid URL ${redactUrl(probe.url)}`, durationMs: elapsed() };
      }
      const headers: Record<string, string> = { 'user-agent': 'rollout-doctor', ...(probe.headers ?? {}) };
      if (target.username || target.password) {
        // Credentials move from the URL into a header so they never appear in a logged URL.
        const user = decodeURIComponent(target.username);
        const pass = decodeURIComponent(target.password);
        headers.authorization ??= `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
        target.username = '';
        target.password = '';
      }
      let method = (probe.method ?? 'GET').toUpperCase();
      let body = probe.body;
      const seen = new Set<string>();
      for (let redirects = 0; ; redirects++) {
        if (this.options.loopbackOnly && isIP(target.hostname.replace(/^\[|\]$/g, '')) && !isLoopbackAddress(target.hostname.replace(/^\[|\]$/g, ''))) {
          return { ok: false, errorClass: 'blocked', message: `${target.host} is outside loopback: not contacted in simulation`, durationMs: elapsed() };
        }
        seen.add(target.toString());
        const mapped = this.options.origins?.get(target.origin);
        const connectTo = mapped ? new URL(target.pathname + target.search, mapped) : target;
        const response = await request(connectTo, {
          method: method as 'GET',
          headers,
          body,
          signal: controller.signal,
          dispatcher: this.agent(probe.tlsVerify ?? true),
          headersTimeout: probe.timeoutMs,
          bodyTimeout: probe.timeoutMs,
        });
        // Bodies we stop reading (redirects, capped reads) are destroyed; their abort is expected.
        response.body.on('error', () => undefined);
        const location = response.headers.location;
        if (REDIRECT_STATUSES.has(response.statusCode) && typeof location === 'string') {
          response.body.destroy();
          const next = new URL(location, target);
          if (redirects >= maxRedirects || seen.has(next.toString())) {
            return {
              ok: false,
              errorClass: 'redirect',
              message: seen.has(next.toString()) ? `redirect loop at ${redactUrl(next.toString())}` : `more than ${maxRedirects} redirects`,
              durationMs: elapsed(),
            };
          }
          if (response.statusCode === 303 || ((response.statusCode === 301 || response.statusCode === 302) && method === 'POST')) {
            method = 'GET';
            body = undefined;
          }
          if (next.origin !== target.origin) delete headers.authorization;
          target = next;
          continue;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let bodyTruncated = false;
        for await (const chunk of response.body) {
          const buffer = chunk as Buffer;
          const room = maxBodyBytes - size;
          if (buffer.byteLength >= room) {
            chunks.push(buffer.subarray(0, room));
            size += room;
            bodyTruncated = true;
            break;
          }
          chunks.push(buffer);
          size += buffer.byteLength;
        }
        if (bodyTruncated) response.body.destroy();
        const flatHeaders: Record<string, string> = {};
        for (const [key, value] of Object.entries(response.headers)) {
          if (value !== undefined) flatHeaders[key] = Array.isArray(value) ? value.join(', ') : value;
        }
        return {
          ok: true,
          status: response.statusCode,
          headers: flatHeaders,
          body: Buffer.concat(chunks).toString('utf8'),
          bodyTruncated,
          durationMs: elapsed(),
          redirects,
        };
      }
    } catch (error) {
      const { errorClass, message } = classify(error, timedOut || controller.signal.aborted);
      return { ok: false, errorClass, message, durationMs: elapsed() };
    } finally {
      clearTimeout(timer);
      probe.signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((agent) => agent.close()));
    this.agents.clear();
  }
}
