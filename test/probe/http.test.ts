/**
 * The outbound prober against real loopback servers: each failure class, bounded reads, redirects,
 * TLS, injected DNS failures, and the simulation's loopback guard. Addresses outside loopback used
 * here are documentation ranges (TEST-NET-3) that the guard refuses before any connection is made.
 */
import type { LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpProber, isLoopbackAddress } from '../../src/probe/http.js';
import { type MisbehavingServers, startMisbehavingServers } from '../helpers/misbehaving-servers.js';

let servers: MisbehavingServers;
let base: string;
let tlsBase: string;

beforeAll(async () => {
  servers = await startMisbehavingServers();
  ({ base, tlsBase } = servers);
});

afterAll(() => servers.close());

describe('HttpProber', () => {
  const prober = new HttpProber({ loopbackOnly: true });
  afterAll(() => prober.close());

  it('answers with status, body and duration; URL credentials become a Basic header', async () => {
    const result = await prober.request({ url: `http://user:s3cret@127.0.0.1:${new URL(base).port}/ok`, timeoutMs: 2000 });
    expect(result).toMatchObject({ ok: true, status: 200, bodyTruncated: false, redirects: 0 });
    if (!result.ok) return;
    expect(JSON.parse(result.body)).toEqual({ auth: `Basic ${Buffer.from('user:s3cret').toString('base64')}` });
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it('classifies a refused connection', async () => {
    expect(await prober.request({ url: `http://127.0.0.1:${servers.closedPort}/`, timeoutMs: 2000 })).toMatchObject({ ok: false, errorClass: 'refused' });
  });

  it('classifies a timeout', async () => {
    expect(await prober.request({ url: `${base}/slow`, timeoutMs: 200 })).toMatchObject({ ok: false, errorClass: 'timeout' });
  });

  it('classifies a reset in the middle of the body', async () => {
    expect(await prober.request({ url: `${base}/reset`, timeoutMs: 2000 })).toMatchObject({ ok: false, errorClass: 'reset' });
  });

  it('follows redirects and stops at a loop', async () => {
    expect(await prober.request({ url: `${base}/redirect-ok`, timeoutMs: 2000 })).toMatchObject({ ok: true, status: 200, redirects: 1 });
    expect(await prober.request({ url: `${base}/loop`, timeoutMs: 2000 })).toMatchObject({ ok: false, errorClass: 'redirect' });
  });

  it('reads at most maxBodyBytes of a 100 MB body', async () => {
    const result = await prober.request({ url: `${base}/huge`, timeoutMs: 5000, maxBodyBytes: 1024 * 1024 });
    expect(result).toMatchObject({ ok: true, status: 200, bodyTruncated: true });
    if (result.ok) expect(result.body.length).toBe(1024 * 1024);
  });

  it('classifies a certificate it cannot verify, and accepts it with tlsVerify: false', async () => {
    expect(await prober.request({ url: `${tlsBase}/`, timeoutMs: 2000 })).toMatchObject({ ok: false, errorClass: 'tls' });
    expect(await prober.request({ url: `${tlsBase}/`, timeoutMs: 2000, tlsVerify: false })).toMatchObject({ ok: true, status: 200, body: 'secure' });
  });

  it('classifies a failed name lookup injected through the connect options (no real DNS query)', async () => {
    const failing: LookupFunction = (hostname, _options, callback) => {
      const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
      (callback as (e: Error) => void)(error);
    };
    const dnsProber = new HttpProber({ loopbackOnly: true, lookup: failing });
    try {
      expect(await dnsProber.request({ url: 'http://litellm.invalid:4000/v1/models', timeoutMs: 2000 })).toMatchObject({ ok: false, errorClass: 'dns' });
    } finally {
      await dnsProber.close();
    }
  });

  it('in simulation never leaves loopback: IP literals, names that resolve outside it, and redirects out', async () => {
    expect(await prober.request({ url: 'http://203.0.113.7:4000/v1/models', timeoutMs: 2000 })).toMatchObject({
      ok: false,
      errorClass: 'blocked',
      message: '203.0.113.7:4000 is outside loopback: not contacted in simulation',
    });
    const resolvesOutside: LookupFunction = (_hostname, options, callback) => {
      const all = (options as { all?: boolean }).all;
      if (all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '203.0.113.9', family: 4 }]);
      else (callback as (e: null, a: string, f: number) => void)(null, '203.0.113.9', 4);
    };
    const guarded = new HttpProber({ loopbackOnly: true, lookup: resolvesOutside });
    try {
      expect(await guarded.request({ url: 'http://apps.example:8080/healthz', timeoutMs: 2000 })).toMatchObject({ ok: false, errorClass: 'blocked' });
    } finally {
      await guarded.close();
    }
    expect(await prober.request({ url: `${base}/redirect-out`, timeoutMs: 2000 })).toMatchObject({ ok: false, errorClass: 'blocked' });
  });

  it('in simulation resolves no host name but localhost (no DNS query leaves the machine)', async () => {
    expect(await prober.request({ url: 'http://vmsingle.monitoring.svc:8428/api/v1/query', timeoutMs: 2000 })).toMatchObject({
      ok: false,
      errorClass: 'blocked',
      message: 'vmsingle.monitoring.svc: host names are not resolved in simulation: not contacted in simulation',
    });
    expect(await prober.request({ url: `http://localhost:${new URL(base).port}/ok`, timeoutMs: 2000 })).toMatchObject({ ok: true, status: 200 });
  });

  it('connects a declared origin where it really listens (fake apps on ephemeral ports)', async () => {
    const mapped = new HttpProber({ loopbackOnly: true, origins: new Map([['http://127.0.55.206:4000', base]]) });
    try {
      expect(await mapped.request({ url: 'http://127.0.55.206:4000/ok', timeoutMs: 2000 })).toMatchObject({ ok: true, status: 200 });
    } finally {
      await mapped.close();
    }
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.0.55.206', '::1', '::ffff:127.0.0.1'].every(isLoopbackAddress)).toBe(true);
    expect(['203.0.113.7', '::2', '128.0.0.1'].some(isLoopbackAddress)).toBe(false);
  });
});
