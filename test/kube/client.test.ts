/**
 * The kube layer against the simulated API server with the real client-node: every way a request
 * can go wrong becomes one typed KubeError with a bounded `code`, every request is counted once,
 * 429 honours Retry-After within the deadline, lists paginate, and connections are reused.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { KubeClient, loadKubeConfig, type RequestRecord } from '../../src/kube/client.js';
import { KubeError } from '../../src/kube/errors.js';
import { CycleReads } from '../../src/kube/reads.js';
import { takeSnapshot } from '../../src/kube/lists.js';
import { startSimulator, type SimulatedCluster } from '../../src/simulator/index.js';
import { servingIdentity } from '../../src/simulator/tls.js';
import { listenOnLoopback } from '../helpers/loopback.js';

const config = parseConfig({}, 'test.yaml');
const pods = Array.from({ length: 1200 }, (_, i) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `p-${String(i).padStart(4, '0')}`, namespace: `ns-${i % 7}`, labels: { 'rollouts-pod-template-hash': 'abc' } },
  spec: { containers: [{ name: 'app', image: 'x' }] },
  status: { phase: 'Running' },
}));

function bulkPods(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace: 'big', labels: { 'rollouts-pod-template-hash': 'h' } }, spec: { containers: [{ name: 'c', image: 'x' }] } }));
}

let sim: SimulatedCluster;
let records: RequestRecord[];
let client: KubeClient;

function makeClient(options: { requestTimeoutMs?: number; kubeconfig?: Parameters<typeof loadKubeConfig>[0]['kubeconfig'] } = {}): KubeClient {
  return new KubeClient(loadKubeConfig({ kubeconfig: options.kubeconfig ?? sim.kubeconfig() }), {
    requestTimeoutMs: options.requestTimeoutMs ?? 1000,
    onRequest: (r) => records.push(r),
  });
}

const scope = (ms = 5000) => ({ signal: AbortSignal.timeout(ms) });

async function listError(c: KubeClient, signalMs = 5000): Promise<KubeError> {
  try {
    await c.request({ verb: 'list', resource: 'pods' }, scope(signalMs), (o) => c.core.listPodForAllNamespaces({}, o));
  } catch (error) {
    return error as KubeError;
  }
  throw new Error('expected the request to fail');
}

beforeAll(async () => {
  sim = await startSimulator({ objects: pods, retryAfterSeconds: 1 });
});

afterAll(async () => {
  await sim.close();
});

afterEach(async () => {
  sim.clearFault();
  sim.setLatency(0);
  await client?.close();
});

describe('errors', () => {
  it.each([
    [401, 'Unauthorized', '401', "Kubernetes API rejected rollout-doctor's credentials (401 Unauthorized) on list pods"],
    [403, 'Forbidden', '403', 'rollout-doctor may not list pods (403 Forbidden)'],
    [500, 'ServerError', '500', 'Kubernetes API error on list pods: 500'],
    [503, 'ServerError', '503', 'Kubernetes API error on list pods: 503'],
  ] as const)('HTTP %i -> %s, counted as code %s', async (status, reason, code, message) => {
    records = [];
    client = makeClient();
    sim.setFault('pods', status);
    const error = await listError(client);
    expect(error).toBeInstanceOf(KubeError);
    expect(error).toMatchObject({ reason, status, verb: 'list', resource: 'pods', code });
    expect(error.message).toContain(message);
    expect(records).toMatchObject([{ verb: 'list', resource: 'pods', code }]);
  });

  it('a wrong token is a 401', async () => {
    records = [];
    const kubeconfig = sim.kubeconfig();
    kubeconfig.users[0]!.token = 'not-the-token';
    client = makeClient({ kubeconfig });
    expect(await listError(client)).toMatchObject({ reason: 'Unauthorized', code: '401' });
  });

  it('malformed JSON and a truncated body are invalid responses', async () => {
    records = [];
    client = makeClient();
    sim.setFault('pods', 'garbage');
    expect(await listError(client)).toMatchObject({ reason: 'InvalidResponse', code: 'invalid_response' });
    sim.setFault('pods', 'truncate');
    const truncated = await listError(client);
    expect(truncated).toMatchObject({ reason: 'InvalidResponse', code: 'invalid_response' });
    expect(records.map((r) => r.code)).toEqual(['invalid_response', 'invalid_response']);
  });

  it('a hang ends at the request timeout; latency above it too', async () => {
    records = [];
    client = makeClient({ requestTimeoutMs: 200 });
    sim.setFault('pods', 'hang');
    const hung = await listError(client);
    expect(hung).toMatchObject({ reason: 'Timeout', code: 'timeout' });
    expect(hung.message).toBe('list pods timed out (no answer within 200 ms)');
    sim.clearFault();
    sim.setLatency(500);
    expect(await listError(client)).toMatchObject({ reason: 'Timeout' });
  });

  it('an unreachable server is a connection error', async () => {
    records = [];
    const closed = await listenOnLoopback(https.createServer());
    const port = closed.port;
    await closed.close();
    const kubeconfig = sim.kubeconfig();
    kubeconfig.clusters[0]!.server = `https://127.0.0.1:${port}`;
    client = makeClient({ kubeconfig });
    const error = await listError(client);
    expect(error).toMatchObject({ reason: 'Unreachable', code: 'connection_error' });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('a server certificate the kubeconfig CA did not sign is a TLS error', async () => {
    const tls = path.resolve(import.meta.dirname, '..', 'fixtures', 'tls');
    const server = await listenOnLoopback(https.createServer({ cert: readFileSync(path.join(tls, 'cert.pem')), key: readFileSync(path.join(tls, 'key.pem')) }, (_q, r) => r.end('{}')), 'https');
    try {
      records = [];
      const kubeconfig = sim.kubeconfig();
      // The simulator's CA, another server's certificate.
      kubeconfig.clusters[0] = { ...kubeconfig.clusters[0]!, server: server.url };
      client = makeClient({ kubeconfig });
      expect(await listError(client)).toMatchObject({ reason: 'TLSError', code: 'tls_error' });
    } finally {
      await server.close();
    }
  });

  it('429 is retried after Retry-After when the deadline allows, and not when it does not', async () => {
    records = [];
    client = makeClient();
    sim.setFault('pods', 429);
    const started = performance.now();
    setTimeout(() => sim.clearFault('pods'), 300);
    const list = await client.request({ verb: 'list', resource: 'pods' }, scope(5000), (o) => client.core.listPodForAllNamespaces({}, o));
    expect(list.items).toHaveLength(1200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(records.map((r) => r.code)).toEqual(['429', '200']);

    records = [];
    sim.setFault('pods', 429);
    const error = await listError(client, 300);
    expect(error).toMatchObject({ reason: 'TooManyRequests', retryAfterSeconds: 1 });
    expect(records.map((r) => r.code)).toEqual(['429']);
  });
});

describe('snapshot', () => {
  it('lists each kind once (pages of 5,000), concurrently, and records absent CRDs as absent', async () => {
    records = [];
    client = makeClient();
    sim.clearRequests();
    const snapshot = await takeSnapshot(client, config, { kinds: ['pods', 'rollouts', 'services'], customKinds: [] }, { signal: AbortSignal.timeout(5000) }, new Date());
    expect(snapshot.list('pods')).toHaveLength(1200);
    expect(snapshot.inNamespace('pods', 'ns-3').length).toBe(Math.ceil((1200 - 3) / 7));
    expect(snapshot.find('pods', 'ns-0', 'p-0000')?.metadata?.name).toBe('p-0000');
    expect(snapshot.state('rollouts')).toMatchObject({ state: 'absent' });
    expect(snapshot.list('rollouts')).toEqual([]);
    expect(snapshot.state('services')).toEqual({ state: 'ok', count: 0 });
    const podRequest = sim.requests.find((r) => r.resource === 'pods');
    expect(podRequest?.query).toContain('labelSelector=rollouts-pod-template-hash');
    expect(podRequest?.query).toContain('resourceVersion=0');
    expect(records.map((r) => `${r.resource}:${r.code}`).sort()).toEqual(['pods:200', 'rollouts.argoproj.io:404', 'services:200']);
  });

  it('reads 50,000 pods in one answer from the watch cache (resourceVersion=0 ignores limit)', async () => {
    const many = await startSimulator({ objects: bulkPods(50_000) });
    try {
      records = [];
      // A request timeout far below the transfer time of the whole answer: it bounds each wait for
      // bytes, not the transfer.
      const big = new KubeClient(loadKubeConfig({ kubeconfig: many.kubeconfig() }), { requestTimeoutMs: 2_000, onRequest: (r) => records.push(r) });
      many.setLatency(0);
      const snapshot = await takeSnapshot(big, config, { kinds: ['pods'], customKinds: [] }, { signal: AbortSignal.timeout(60_000) }, new Date());
      expect(snapshot.list('pods')).toHaveLength(50_000);
      expect(records).toHaveLength(1);
      expect(many.requests[0]?.query).toContain('resourceVersion=0');
      await big.close();
    } finally {
      await many.close();
    }
  });

  it('follows continue tokens when a server without a watch cache pages, and starts over once on 410', async () => {
    const paging = await startSimulator({ objects: bulkPods(12_000), watchCache: false });
    try {
      records = [];
      const c = new KubeClient(loadKubeConfig({ kubeconfig: paging.kubeconfig() }), { requestTimeoutMs: 5_000, onRequest: (r) => records.push(r) });
      const snapshot = await takeSnapshot(c, config, { kinds: ['pods'], customKinds: [] }, { signal: AbortSignal.timeout(30_000) }, new Date());
      expect(snapshot.list('pods')).toHaveLength(12_000);
      expect(paging.requests.filter((r) => r.query?.includes('continue=')).length).toBe(2);
      // Compaction between the first page and the second: 410 Expired, then the list is read again.
      paging.clearRequests();
      let compacted = false;
      paging.setLatency(0);
      const original = paging.requests.push.bind(paging.requests);
      paging.requests.push = (...entries) => {
        const n = original(...entries);
        if (!compacted && entries.some((e) => e.query?.includes('continue='))) {
          compacted = true;
          paging.compact();
        }
        return n;
      };
      const again = await takeSnapshot(c, config, { kinds: ['pods'], customKinds: [] }, { signal: AbortSignal.timeout(30_000) }, new Date());
      expect(again.list('pods')).toHaveLength(12_000);
      const pages = paging.requests.map((r) => `${r.status} ${r.query?.includes('continue=') ? 'continue' : 'first'}`);
      expect(pages).toEqual(['200 first', '410 continue', '200 first', '200 continue', '200 continue']);
      await c.close();
    } finally {
      await paging.close();
    }
  });

  it('the request timeout bounds each wait for bytes, not the transfer of a big answer', async () => {
    // 50,000 pods trickled in 40 chunks 50 ms apart: 2 s in all, four times the request timeout.
    const identity = await servingIdentity('127.0.0.1');
    const items = bulkPods(50_000).map((p) => JSON.stringify(p));
    const body = Buffer.from(`{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[${items.join(',')}]}`);
    const server = https.createServer({ key: identity.keyPem, cert: identity.certPem }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const step = Math.ceil(body.length / 40);
      let offset = 0;
      const timer = setInterval(() => {
        res.write(body.subarray(offset, offset + step));
        offset += step;
        if (offset >= body.length) {
          clearInterval(timer);
          res.end();
        }
      }, 50);
      res.on('close', () => clearInterval(timer));
    });
    const listening = await listenOnLoopback(server, 'https');
    try {
      const kubeconfig = sim.kubeconfig();
      kubeconfig.clusters[0]!.server = listening.url;
      const slow = makeClient({ requestTimeoutMs: 500, kubeconfig });
      const snapshot = await takeSnapshot(slow, config, { kinds: ['pods'], customKinds: [] }, { signal: AbortSignal.timeout(30_000) }, new Date());
      expect(snapshot.list('pods')).toHaveLength(50_000);
      await slow.close();
    } finally {
      await listening.close();
    }
  });

  it('a list whose answer stops arriving ends at the request timeout', async () => {
    records = [];
    client = makeClient({ requestTimeoutMs: 300 });
    sim.setFault('list:pods', 'stall');
    const error = await listError(client);
    expect(error).toMatchObject({ reason: 'Timeout' });
  });

  it('a failed list is kept as that kind\'s error; list() throws it', async () => {
    records = [];
    client = makeClient();
    sim.setFault('services', 403);
    const snapshot = await takeSnapshot(client, config, { kinds: ['pods', 'services'], customKinds: [] }, { signal: AbortSignal.timeout(5000) }, new Date());
    expect(snapshot.list('pods')).toHaveLength(1200);
    expect(() => snapshot.list('services')).toThrow('rollout-doctor may not list services (403 Forbidden)');
    expect(snapshot.failures().map((f) => f.kind)).toEqual(['services']);
  });

  it('reuses one connection pool instead of opening a connection per request', async () => {
    records = [];
    client = makeClient();
    const before = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    for (let i = 0; i < 20; i++) await client.request({ verb: 'list', resource: 'services' }, scope(), (o) => client.core.listServiceForAllNamespaces({}, o));
    const after = process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    expect(after - before).toBeLessThanOrEqual(2);
  });
});

describe('targeted reads', () => {
  it('a log read stays bounded even when the server ignores limitBytes', async () => {
    let written = 0;
    // Served with the simulator's own certificate, so the kubeconfig's CA trusts it.
    const identity = await servingIdentity('127.0.0.1');
    const server = https.createServer({ key: identity.keyPem, cert: identity.certPem }, (req, res) => {
      // A broken kubelet proxy: 50 MB of log lines whatever limitBytes asked for.
      res.writeHead(200, { 'content-type': 'text/plain' });
      const line = Buffer.from('time="2026-11-26T10:00:00Z" level=info msg="noise noise noise noise noise"\n');
      const pump = () => {
        while (written < 50 * 1024 * 1024) {
          written += line.length;
          if (!res.write(line)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      req.on('close', () => res.destroy());
    });
    const listening = await listenOnLoopback(server, 'https');
    try {
      const kubeconfig = sim.kubeconfig();
      kubeconfig.clusters[0]!.server = listening.url;
      const c = new KubeClient(loadKubeConfig({ kubeconfig }), { requestTimeoutMs: 5000 });
      const reads = new CycleReads(c, () => undefined);
      const text = await reads.forCheck(AbortSignal.timeout(10_000)).podLog({ namespace: 'argo-rollouts', pod: 'ctl', limitBytes: 64 * 1024 });
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(64 * 1024);
      expect(written).toBeLessThan(50 * 1024 * 1024);
      await c.close();
    } finally {
      await listening.close();
    }
  });


  it('pod logs are capped whatever the server sends, and shared within a cycle', async () => {
    records = [];
    const withLog = await startSimulator({
      objects: [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'ctl', namespace: 'argo-rollouts' },
          spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'x' }] },
          status: { containerStatuses: [{ name: 'c', state: { running: { startedAt: '2026-11-26T10:00:00Z' } } }] },
        },
      ],
    });
    try {
      const c = new KubeClient(loadKubeConfig({ kubeconfig: withLog.kubeconfig() }), { requestTimeoutMs: 2000 });
      const reads = new CycleReads(c, (r) => records.push(r));
      const a = reads.forCheck(AbortSignal.timeout(5000));
      const b = reads.forCheck(AbortSignal.timeout(5000));
      const [first, second] = await Promise.all([a.podLog({ namespace: 'argo-rollouts', pod: 'ctl', tailLines: 10 }), b.podLog({ namespace: 'argo-rollouts', pod: 'ctl', tailLines: 10 })]);
      expect(first).toBe('');
      expect(second).toBe('');
      expect(records).toHaveLength(1);
      await expect(a.podLog({ namespace: 'argo-rollouts', pod: 'ctl', previous: true })).rejects.toMatchObject({ reason: 'BadRequest', status: 400 });
      const review = await a.accessReview({ user: 'system:serviceaccount:argo-rollouts:argo-rollouts', verb: 'create', group: 'cilium.io', resource: 'ciliumenvoyconfigs' });
      expect(review).toMatchObject({ allowed: false });
      await c.close();
    } finally {
      await withLog.close();
    }
  });
});
