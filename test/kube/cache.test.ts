/**
 * The informer cache against the simulator's watch (a real HTTPS API server on loopback, the real
 * client-node Watch): changes and deletes arrive without a list, 410 relists, a stalled watch is
 * restarted, a CRD installed after start is picked up, a kind rollout-doctor may list but not watch
 * is listed every cycle instead, and a kind that keeps failing is reported as a failed list once
 * the grace period is over.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { CacheSource, type CacheOptions } from '../../src/kube/cache.js';
import { KubeClient, loadKubeConfig } from '../../src/kube/client.js';
import type { ReflectorTiming } from '../../src/kube/reflector.js';
import type { Snapshot, SnapshotRequest } from '../../src/kube/snapshot.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { SimulatedCluster, SimulatorOptions } from '../../src/simulator/types.js';
import { waitFor } from '../helpers/polling.js';

const config = parseConfig({}, 'cache-test.yaml');
const FAST: Partial<ReflectorTiming> = { minWatchTimeoutSeconds: 30, silenceMs: 1500, backoffInitialMs: 50, backoffMaxMs: 200, absentRetryMs: 200, watchRetryMs: 60_000 };
const WIDGETS = { group: 'example.com', version: 'v1', plural: 'widgets', namespaced: true };

let sim: SimulatedCluster | undefined;
let client: KubeClient | undefined;
let cache: CacheSource | undefined;

afterEach(async () => {
  await cache?.close();
  await client?.close();
  await sim?.close();
  cache = client = sim = undefined;
});

function rollout(name: string, phase = 'Healthy'): Record<string, unknown> {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace: 'shop', managedFields: [{ manager: 'argo-rollouts' }] },
    spec: { replicas: 1, template: { spec: { containers: [{ name: 'app', image: 'app:1' }] } } },
    status: { phase },
  };
}

const ROLLOUT_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'rollouts.argoproj.io' },
  spec: { group: 'argoproj.io', names: { kind: 'Rollout', plural: 'rollouts', singular: 'rollout' }, scope: 'Namespaced', versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
};

const WIDGET_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: { group: 'example.com', names: { kind: 'Widget', plural: 'widgets', singular: 'widget' }, scope: 'Namespaced', versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
};

const NAMESPACE = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } };

async function start(options: SimulatorOptions, cacheOptions: Partial<CacheOptions> = {}): Promise<{ sim: SimulatedCluster; cache: CacheSource; changes: string[] }> {
  sim = await startSimulator({ startApps: false, ...options });
  client = new KubeClient(loadKubeConfig({ kubeconfig: sim.kubeconfig() }), { requestTimeoutMs: 2000 });
  cache = new CacheSource(client, { graceMs: () => 60_000, timing: FAST, ...cacheOptions });
  const changes: string[] = [];
  const source = cache;
  cache.onChange(() => changes.push(...source.takeChanges()));
  return { sim, cache, changes };
}

const ROLLOUTS: SnapshotRequest = { kinds: ['rollouts'], customKinds: [] };

function take(request: SnapshotRequest = ROLLOUTS): Promise<Snapshot> {
  return cache!.snapshot(request, config, { signal: AbortSignal.timeout(10_000) }, new Date());
}

function phases(snapshot: Snapshot): string[] {
  return snapshot.list('rollouts').map((r) => `${r.metadata.name}=${String(r.status?.phase)}`).sort();
}

const requests = (s: SimulatedCluster, verb: string, resource: string) => s.requests.filter((r) => r.verb === verb && r.resource === resource);

describe('the cache', () => {
  it('lists once, then follows changes and deletes through the watch, objects projected', async () => {
    const { sim, changes } = await start({ objects: [NAMESPACE, ROLLOUT_CRD, rollout('a'), rollout('b')] });
    const first = await take();
    expect(phases(first)).toEqual(['a=Healthy', 'b=Healthy']);
    const a = first.find('rollouts', 'shop', 'a')!;
    expect(a.metadata).not.toHaveProperty('managedFields');
    expect(a.spec).not.toHaveProperty('template');

    sim.apply(rollout('a', 'Degraded'));
    sim.remove('argoproj.io/v1alpha1', 'Rollout', 'shop', 'b');
    sim.apply(rollout('c'));
    await waitFor(() => cache!.view(ROLLOUTS, config, new Date()), (view) => phases(view).join() === 'a=Degraded,c=Healthy');
    expect(changes).toContain('rollouts');
    // The view a cycle took earlier is its own: it does not move under the checks.
    expect(phases(first)).toEqual(['a=Healthy', 'b=Healthy']);

    const lists = requests(sim, 'list', 'rollouts');
    await take();
    expect(requests(sim, 'list', 'rollouts')).toHaveLength(lists.length);
    expect(lists).toHaveLength(1);
    const watch = requests(sim, 'watch', 'rollouts')[0]!;
    expect(watch.query).toContain('allowWatchBookmarks=true');
    expect(watch.query).toMatch(/resourceVersion=\d+/);
  });

  it('counts a watch when its answer arrives (client-go rest_client_requests_total), not when it ends', async () => {
    const counted: string[] = [];
    await start({ objects: [NAMESPACE, ROLLOUT_CRD, rollout('a')] }, { onRequest: (r) => counted.push(`${r.verb} ${r.resource} ${r.code}`) });
    await take();
    // Open for up to 60 s (FAST's 30 s, jittered): counted once, while still open.
    await waitFor(() => counted.filter((c) => c.startsWith('watch ')), (watches) => watches.length > 0);
    expect(counted).toEqual(['list rollouts.argoproj.io 200', 'watch rollouts.argoproj.io 200']);
    expect(requests(sim!, 'watch', 'rollouts')).toHaveLength(1);
  });

  it('counts a watch that opened and then went silent once more, as timed out', async () => {
    const counted: string[] = [];
    const { sim } = await start({ objects: [NAMESPACE, ROLLOUT_CRD, rollout('a')], faults: { 'watch:rollouts': 'stall' } }, { onRequest: (r) => counted.push(`${r.verb} ${r.resource} ${r.code}`) });
    await take();
    // The simulator sees the second watch before its answer reaches the client and is counted: wait
    // for the client's own count (the stalled watch's timeout, then the new watch's answer).
    await waitFor(() => counted.filter((c) => c.startsWith('watch ')), (watches) => watches.length >= 3, 10_000);
    expect(requests(sim, 'watch', 'rollouts').length).toBeGreaterThanOrEqual(2);
    expect(counted.slice(0, 4)).toEqual(['list rollouts.argoproj.io 200', 'watch rollouts.argoproj.io 200', 'watch rollouts.argoproj.io timeout', 'watch rollouts.argoproj.io 200']);
  });

  it('a change the checks do not read notifies nobody', async () => {
    const { sim, changes } = await start({ objects: [NAMESPACE, ROLLOUT_CRD, rollout('a')] });
    await take();
    changes.length = 0;
    sim.apply({ ...rollout('a'), metadata: { name: 'a', namespace: 'shop', managedFields: [{ manager: 'kubectl' }] } });
    sim.apply(rollout('a', 'Paused'));
    await waitFor(() => cache!.view(ROLLOUTS, config, new Date()), (view) => phases(view).join() === 'a=Paused');
    expect(changes).toEqual(['rollouts']);
  });

  it('410 on the watch (compacted history) relists, and the view catches up', async () => {
    const { sim } = await start({ objects: [NAMESPACE, ROLLOUT_CRD, rollout('a')] });
    await take();
    sim.setFault('watch:rollouts', 410);
    sim.compact();
    sim.apply(rollout('a', 'Degraded'));
    await waitFor(() => requests(sim, 'list', 'rollouts').length, (n) => n >= 2);
    sim.clearFault();
    await waitFor(() => cache!.view(ROLLOUTS, config, new Date()), (view) => phases(view).join() === 'a=Degraded');
    // The relist asked for a state at least as new as the last one seen (client-go's relist).
    expect(requests(sim, 'list', 'rollouts').at(-1)!.query).toMatch(/resourceVersion=[1-9]\d*/);
  });

  it('a watch that stalls (headers, then nothing) is given up and started again', async () => {
    const { sim } = await start({ objects: [NAMESPACE, ROLLOUT_CRD, rollout('a')], faults: { 'watch:rollouts': 'stall' } });
    await take();
    await waitFor(() => requests(sim, 'watch', 'rollouts').length, (n) => n >= 2, 10_000);
    sim.clearFault();
    sim.apply(rollout('a', 'Paused'));
    await waitFor(() => cache!.view(ROLLOUTS, config, new Date()), (view) => phases(view).join() === 'a=Paused', 10_000);
  });

  it('a kind whose CRD appears after start is absent, then listed and watched', async () => {
    const { sim, changes } = await start({ objects: [NAMESPACE] });
    const request: SnapshotRequest = { kinds: [], customKinds: [WIDGETS] };
    const before = await take(request);
    expect(before.state(WIDGETS)).toEqual({ state: 'absent', reason: 'widgets.example.com is not installed (no CRD)' });
    sim.apply(WIDGET_CRD);
    sim.apply({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'shop' }, spec: { size: 3 } });
    await waitFor(() => cache!.view(request, config, new Date()), (view) => view.state(WIDGETS).state === 'ok' && view.listCustom(WIDGETS).length === 1);
    expect(changes).toContain('widgets.example.com/v1');
  });

  it('a kind it may list but not watch is listed every cycle instead, and says so', async () => {
    const subject = 'system:serviceaccount:rollout-doctor:rollout-doctor';
    const rbac = [
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'reader' }, rules: [{ apiGroups: ['argoproj.io'], resources: ['rollouts'], verbs: ['list'] }] },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'rollout-doctor', namespace: 'rollout-doctor' }],
      },
    ];
    const modes: string[] = [];
    const { sim } = await start({ objects: [NAMESPACE, ROLLOUT_CRD, rollout('a'), ...rbac], enforceRbacSubject: subject }, { onModeChange: (kind, mode, reason) => modes.push(`${kind} ${mode} ${reason}`) });
    await take();
    await waitFor(() => cache!.watchFallbacks(), (fallbacks) => fallbacks.length === 1);
    expect(cache!.watchFallbacks()).toEqual([{ kind: 'rollouts', reason: 'rollout-doctor may not watch rollouts.argoproj.io (403 Forbidden)' }]);
    expect(modes).toEqual(['rollouts poll rollout-doctor may not watch rollouts.argoproj.io (403 Forbidden)']);
    sim.apply(rollout('a', 'Degraded'));
    const lists = requests(sim, 'list', 'rollouts').length;
    expect(phases(await take())).toEqual(['a=Degraded']);
    expect(requests(sim, 'list', 'rollouts')).toHaveLength(lists + 1);
  });

  it('a kind that keeps failing serves its last state through the grace period, then is a failed list', async () => {
    let graceMs = 60_000;
    const { sim } = await start({ objects: [NAMESPACE, ROLLOUT_CRD, rollout('a')] }, { graceMs: () => graceMs, timing: { ...FAST, minWatchTimeoutSeconds: 1 } });
    await take();
    sim.setFault('rollouts', 500);
    // The server ends the watch after about a second; watching again answers 500.
    await waitFor(() => requests(sim, 'watch', 'rollouts').filter((r) => r.status === 500).length, (n) => n >= 1, 10_000);
    expect(phases(await take())).toEqual(['a=Healthy']);
    graceMs = 0;
    // The simulator logs the 500 before its answer reaches the reflector: wait for the cache to have it.
    const failed = await waitFor(() => take(), (view) => view.state('rollouts').state !== 'ok', 10_000);
    expect(() => failed.list('rollouts')).toThrow('Kubernetes API error on watch rollouts.argoproj.io: 500');
    sim.clearFault();
    await waitFor(() => take(), (view) => view.state('rollouts').state === 'ok', 10_000);
  });

  it('a first list that fails is reported at once, as a failed list per cycle is', async () => {
    await start({ objects: [NAMESPACE, ROLLOUT_CRD, rollout('a')], faults: { 'list:rollouts': 403 } });
    const snapshot = await take();
    expect(() => snapshot.list('rollouts')).toThrow('rollout-doctor may not list rollouts.argoproj.io (403 Forbidden)');
  });
});
