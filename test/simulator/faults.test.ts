import { afterEach, describe, expect, it } from 'vitest';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { startSimulator, type SimulatedCluster } from '../../src/simulator/index.js';
import { anonymous, apiError, get, kubeConfigFor, pod } from './helpers.js';

const ROLLOUT = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'r', namespace: 'ns' }, spec: {} };

function countResources(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}

describe('faults and latency', () => {
  let sim: SimulatedCluster | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('answers an injected status code with a Status body, per resource, set and cleared at run time', async () => {
    sim = await startSimulator({ objects: [pod('ns', 'p'), ROLLOUT], faults: { rollouts: 500 } });
    const kc = kubeConfigFor(sim);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const rollouts = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' };
    const err500 = await apiError(custom.listClusterCustomObject(rollouts));
    expect(err500.code).toBe(500);
    expect(err500.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'InternalError', code: 500 });
    // Other resources are untouched.
    expect((await core.listPodForAllNamespaces()).items).toHaveLength(1);

    sim.setFault('pods', 403);
    const err403 = await apiError(core.listNamespacedPod({ namespace: 'ns' }));
    expect(err403.code).toBe(403);
    expect(err403.body).toMatchObject({
      reason: 'Forbidden',
      message: 'pods is forbidden: User "kubernetes-admin" cannot list resource "pods" in API group "" in the namespace "ns"',
    });
    sim.setFault('pods', 503);
    expect((await apiError(core.listPodForAllNamespaces())).body).toMatchObject({ code: 503, reason: 'ServiceUnavailable' });

    sim.clearFault('pods');
    expect((await core.listPodForAllNamespaces()).items).toHaveLength(1);
    expect((await apiError(custom.listClusterCustomObject(rollouts))).code).toBe(500);
    sim.clearFault();
    expect(((await custom.listClusterCustomObject(rollouts)) as any).items).toHaveLength(1);
  });

  it('sends Retry-After with an injected 429', async () => {
    sim = await startSimulator({ retryAfterSeconds: 7 });
    sim.setFault('*', 429);
    const res = await get(sim, '/api/v1/pods');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toMatchObject({ reason: 'TooManyRequests', code: 429, details: { retryAfterSeconds: 7 } });
    // `*` covers every API path, but not the health endpoints.
    expect((await get(sim, '/version')).status).toBe(429);
    expect((await anonymous(sim, `/healthz`)).status).toBe(200);
  });

  it('answers 200 with malformed JSON for garbage', async () => {
    sim = await startSimulator({ objects: [pod('ns', 'p')] });
    sim.setFault('pods', 'garbage');
    const res = await get(sim, '/api/v1/pods');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    await expect(res.clone().json()).rejects.toThrow();
    const core = kubeConfigFor(sim).makeApiClient(CoreV1Api);
    await expect(core.listPodForAllNamespaces()).rejects.toThrow();
  });

  it('truncates: full Content-Length, half the body, then the connection is cut', async () => {
    sim = await startSimulator({ objects: [pod('ns', 'p-1'), pod('ns', 'p-2')] });
    sim.setFault('pods', 'truncate');
    const res = await get(sim, '/api/v1/pods');
    expect(res.status).toBe(200);
    const declared = Number(res.headers.get('content-length'));
    expect(declared).toBeGreaterThan(200);
    await expect(res.text()).rejects.toThrow();
    const entry = sim.requests.at(-1);
    expect(entry).toMatchObject({ resource: 'pods', status: 200, bytes: Math.floor(declared / 2) });
    const core = kubeConfigFor(sim).makeApiClient(CoreV1Api);
    await expect(core.listPodForAllNamespaces()).rejects.toThrow();
    sim.clearFault('pods');
    expect((await core.listPodForAllNamespaces()).items).toHaveLength(2);
  });

  it('hangs until the client aborts, and answers again once cleared', async () => {
    sim = await startSimulator({ objects: [pod('ns', 'p')], faults: { 'pods/log': 'hang', pods: 'hang' } });
    await expect(get(sim, '/api/v1/pods', { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    await expect(get(sim, '/api/v1/namespaces/ns/pods/p/log', { signal: AbortSignal.timeout(50) })).rejects.toThrow();
    expect(sim.requests.filter((r) => r.resource === 'pods')[0]).toMatchObject({ status: 0, verb: 'list' });
    sim.clearFault('pods');
    expect((await get(sim, '/api/v1/pods')).status).toBe(200);
    expect(sim.requests.at(-1)?.status).toBe(200);
  });

  it('releases hung requests and pending latency on close, leaving no server or timer behind', async () => {
    const serversBefore = countResources('TCPServerWrap');
    const timersBefore = countResources('Timeout');
    sim = await startSimulator({ objects: [pod('ns', 'p')] });
    sim.setFault('pods', 'hang');
    // Settled into values at once, so that the rejections at close are handled.
    const outcome = (p: Promise<Response>): Promise<unknown> => p.then((res) => res.status, (err: unknown) => err);
    const hung = outcome(get(sim, '/api/v1/pods'));
    sim.setLatency(60_000);
    const delayed = outcome(get(sim, '/api/v1/namespaces'));
    await new Promise((r) => setTimeout(r, 50));
    expect(sim.requests).toHaveLength(2);
    await sim.close();
    sim = undefined;
    expect(await hung).toBeInstanceOf(Error);
    expect(await delayed).toBeInstanceOf(Error);
    expect(countResources('TCPServerWrap')).toBe(serversBefore);
    expect(countResources('Timeout')).toBeLessThanOrEqual(timersBefore);
  });

  it('delays every API answer by the latency, settable at run time', async () => {
    sim = await startSimulator({ latencyMs: 120 });
    let started = performance.now();
    expect((await get(sim, '/api/v1/pods')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    // Health probes are not API answers: undelayed, one started after an API request overtakes it.
    const order: string[] = [];
    const api = get(sim, '/api/v1/namespaces').then(() => order.push('api'));
    const health = anonymous(sim, '/healthz').then(() => order.push('healthz'));
    await Promise.all([api, health]);
    expect(order).toEqual(['healthz', 'api']);
    sim.setLatency(200);
    started = performance.now();
    await get(sim, '/api/v1/pods');
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('rejects faults that are not HTTP codes or known kinds', async () => {
    sim = await startSimulator({});
    expect(() => sim?.setFault('pods', 42)).toThrow(/not an HTTP status code/);
    expect(() => sim?.setFault('pods', 'explode' as never)).toThrow(/unknown fault/);
  });
});
