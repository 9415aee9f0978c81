import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api, VersionApi } from '@kubernetes/client-node';
import { startSimulator, type SimulatedCluster } from '../../src/simulator/index.js';
import { anonymous, apiError, get, getJson, kubeConfigFor, pod } from './helpers.js';

function event(namespace: string, name: string, involved: Record<string, string>, type: string, reason: string): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Event', metadata: { name, namespace }, involvedObject: involved, type, reason, message: `${reason} happened` };
}

const OBJECTS: unknown[] = [
  pod('team-a', 'web-1', { app: 'web', tier: 'front', track: 'stable' }),
  pod('team-a', 'web-2', { app: 'web', tier: 'front', track: 'canary' }),
  pod('team-a', 'db-1', { app: 'db', tier: 'back' }, { status: { phase: 'Pending' } }),
  pod('team-b', 'web-1', { app: 'web' }),
  pod('team-b', 'batch-1', {}, { status: { phase: 'Succeeded' } }),
  event('team-a', 'ev-1', { kind: 'Pod', name: 'web-1', namespace: 'team-a' }, 'Warning', 'BackOff'),
  event('team-a', 'ev-2', { kind: 'Rollout', name: 'web', namespace: 'team-a' }, 'Normal', 'RolloutUpdated'),
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'team-a' }, spec: { replicas: 0 } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } },
  { apiVersion: 'argoproj.io/v1alpha1', kind: 'ClusterAnalysisTemplate', metadata: { name: 'global-rate' }, spec: { metrics: [] } },
];

describe('simulated API: reads', () => {
  let sim: SimulatedCluster;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  beforeAll(async () => {
    sim = await startSimulator({ objects: OBJECTS });
    const kc = kubeConfigFor(sim);
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
  });
  afterAll(() => sim.close());

  it('lists cluster-wide and namespaced, sorted by namespace then name, items typed', async () => {
    const all = await core.listPodForAllNamespaces();
    expect(all.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)).toEqual([
      'team-a/db-1',
      'team-a/web-1',
      'team-a/web-2',
      'team-b/batch-1',
      'team-b/web-1',
    ]);
    expect(all.items[0]).toMatchObject({ apiVersion: 'v1', kind: 'Pod' });
    const teamB = await core.listNamespacedPod({ namespace: 'team-b' });
    expect(teamB.items.map((p) => p.metadata?.name)).toEqual(['batch-1', 'web-1']);
    const raw = await getJson(sim, '/api/v1/namespaces/team-b/pods');
    expect(raw.body).toMatchObject({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: expect.any(String) } });
  });

  it('gets one object, namespaced and cluster-scoped', async () => {
    const p = await core.readNamespacedPod({ namespace: 'team-a', name: 'web-2' });
    expect(p.metadata?.labels?.['track']).toBe('canary');
    const ns = await core.readNamespace({ name: 'team-a' });
    expect(ns.metadata?.name).toBe('team-a');
    const cat = (await custom.getClusterCustomObject({ group: 'argoproj.io', version: 'v1alpha1', plural: 'clusteranalysistemplates', name: 'global-rate' })) as any;
    expect(cat.kind).toBe('ClusterAnalysisTemplate');
    const dep = await kubeConfigFor(sim).makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: 'team-a', name: 'web' });
    expect(dep.spec?.replicas).toBe(0);
  });

  it('answers NotFound Status bodies with the real message shapes', async () => {
    const core404 = await apiError(core.readNamespacedPod({ namespace: 'team-a', name: 'nope' }));
    expect(core404.code).toBe(404);
    expect(core404.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'pods' },
      code: 404,
    });
    const ro404 = await apiError(custom.getNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: 'x', plural: 'rollouts', name: 'r' }));
    expect(ro404.body.message).toBe('rollouts.argoproj.io "r" not found');
    expect(ro404.body.details).toEqual({ name: 'r', group: 'argoproj.io', kind: 'rollouts' });
  });

  it('serves empty lists for absent built-ins and 404 for absent custom kinds', async () => {
    const secrets = await core.listSecretForAllNamespaces();
    expect(secrets.items).toEqual([]);
    const slices = await getJson(sim, '/apis/discovery.k8s.io/v1/endpointslices');
    expect(slices).toMatchObject({ status: 200, body: { kind: 'EndpointSliceList', items: [] } });
    // The ClusterAnalysisTemplate installed the whole Argo Rollouts group of kinds...
    const rollouts = (await custom.listClusterCustomObject({ group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' })) as any;
    expect(rollouts).toMatchObject({ kind: 'RolloutList', items: [] });
    // ...but not Argo CD's or Cilium's.
    // A custom kind without its CRD falls through to the end of kube-apiserver's handler chain:
    // Go's http.NotFound, text/plain.
    for (const [group, version, plural] of [
      ['argoproj.io', 'v1alpha1', 'applications'],
      ['cilium.io', 'v2', 'ciliumenvoyconfigs'],
    ] as const) {
      const err = await apiError(custom.listClusterCustomObject({ group, version, plural }));
      expect(err.code).toBe(404);
      expect(err.body).toBe('404 page not found\n');
    }
    const unknownGroup = await get(sim, '/apis/nothing.example/v1/things');
    expect(unknownGroup.status).toBe(404);
    expect(unknownGroup.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await unknownGroup.text()).toBe('404 page not found\n');
    // Under a built-in group's web service an unknown resource is a Status.
    expect(await getJson(sim, '/api/v1/widgets')).toMatchObject({ status: 404, body: { kind: 'Status', reason: 'NotFound', message: 'the server could not find the requested resource' } });
    // Versions removed in 1.16: the apps group answers with a Status, the extensions group is gone.
    expect((await getJson(sim, '/apis/apps/v1beta2/deployments')).body).toMatchObject({ reason: 'NotFound' });
    expect((await get(sim, '/apis/extensions/v1beta1/replicasets')).status).toBe(404);
    // A namespaced path for a cluster-scoped kind does not exist either.
    expect((await get(sim, '/api/v1/namespaces/team-a/nodes')).status).toBe(404);
  });

  it('filters by every label selector form', async () => {
    const names = async (labelSelector: string): Promise<string[]> =>
      (await core.listPodForAllNamespaces({ labelSelector })).items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
    expect(await names('app=web')).toEqual(['team-a/web-1', 'team-a/web-2', 'team-b/web-1']);
    expect(await names('app==web,tier=front')).toEqual(['team-a/web-1', 'team-a/web-2']);
    expect(await names('app!=web')).toEqual(['team-a/db-1', 'team-b/batch-1']);
    expect(await names('track in (canary, stable)')).toEqual(['team-a/web-1', 'team-a/web-2']);
    expect(await names('app notin (web)')).toEqual(['team-a/db-1', 'team-b/batch-1']);
    expect(await names('tier')).toEqual(['team-a/db-1', 'team-a/web-1', 'team-a/web-2']);
    expect(await names('!tier')).toEqual(['team-b/batch-1', 'team-b/web-1']);
    expect(await names('app=web,!track')).toEqual(['team-b/web-1']);
  });

  it('rejects a malformed label selector with 400 BadRequest', async () => {
    // `app in ()` is valid upstream (apimachinery v0.32.0 selector.go parseValues: the empty value).
    for (const selector of ['app in (web', 'app=web=x', '=web', 'app in web']) {
      const err = await apiError(core.listPodForAllNamespaces({ labelSelector: selector }));
      expect(err.code, selector).toBe(400);
      expect(err.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400 });
    }
  });

  it('filters by field selectors, including pod phase and event fields', async () => {
    const pods = async (fieldSelector: string): Promise<string[]> =>
      (await core.listPodForAllNamespaces({ fieldSelector })).items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
    expect(await pods('metadata.name=web-1')).toEqual(['team-a/web-1', 'team-b/web-1']);
    expect(await pods('metadata.namespace==team-b,metadata.name!=web-1')).toEqual(['team-b/batch-1']);
    expect(await pods('status.phase!=Running')).toEqual(['team-a/db-1', 'team-b/batch-1']);
    const events = await core.listNamespacedEvent({ namespace: 'team-a', fieldSelector: 'involvedObject.kind=Pod,involvedObject.name=web-1,type=Warning' });
    expect(events.items.map((e) => e.reason)).toEqual(['BackOff']);
    const byReason = await core.listEventForAllNamespaces({ fieldSelector: 'reason=RolloutUpdated,involvedObject.namespace=team-a' });
    expect(byReason.items.map((e) => e.metadata?.name)).toEqual(['ev-2']);
  });

  it('rejects unsupported field labels like the real server', async () => {
    const err = await apiError(core.listPodForAllNamespaces({ fieldSelector: 'spec.containers=x' }));
    expect(err.code).toBe(400);
    expect(err.body.message).toBe('field label not supported: spec.containers');
    const eventsOnPods = await apiError(core.listPodForAllNamespaces({ fieldSelector: 'involvedObject.kind=Pod' }));
    expect(eventsOnPods.body.message).toBe('field label not supported: involvedObject.kind');
    const malformed = await apiError(core.listPodForAllNamespaces({ fieldSelector: 'metadata.name' }));
    expect(malformed.body).toMatchObject({ code: 400, reason: 'BadRequest', message: "invalid selector: 'metadata.name'; can't understand 'metadata.name'" });
  });

  it('paginates with limit and continue, with remainingItemCount when unfiltered', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    const remaining: (number | undefined)[] = [];
    do {
      const page = await core.listPodForAllNamespaces({ limit: 2, _continue: token });
      seen.push(...page.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`));
      remaining.push(page.metadata?.remainingItemCount);
      token = page.metadata?._continue;
    } while (token);
    expect(seen).toEqual(['team-a/db-1', 'team-a/web-1', 'team-a/web-2', 'team-b/batch-1', 'team-b/web-1']);
    expect(remaining).toEqual([3, 1, undefined]);
    // With a selector: continue only while more matches exist, no remainingItemCount.
    const first = await core.listPodForAllNamespaces({ labelSelector: 'app=web', limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.metadata?.remainingItemCount).toBeUndefined();
    const second = await core.listPodForAllNamespaces({ labelSelector: 'app=web', limit: 2, _continue: first.metadata?._continue });
    expect(second.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)).toEqual(['team-b/web-1']);
    expect(second.metadata?._continue).toBeUndefined();
    // The continued page reports the first page's resourceVersion (one consistent list).
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
  });

  it('accepts resourceVersion=0 and rejects an invalid continue token with 400', async () => {
    const rv0 = await getJson(sim, '/api/v1/pods?resourceVersion=0&resourceVersionMatch=NotOlderThan');
    expect(rv0.body.items).toHaveLength(5);
    const err = await apiError(core.listPodForAllNamespaces({ limit: 1, _continue: 'bm90LWEtdG9rZW4' }));
    expect(err.code).toBe(400);
    expect(err.body.message).toMatch(/^invalid continue token: continue key is not valid/);
  });

  it('serves core and events.k8s.io events separately', async () => {
    const v1 = await kubeConfigFor(sim).makeApiClient(EventsV1Api).listEventForAllNamespaces();
    expect(v1.items).toEqual([]);
  });

  it('answers /version, health endpoints and discovery', async () => {
    const version = await kubeConfigFor(sim).makeApiClient(VersionApi).getCode();
    expect(version.major).toBe('1');
    expect(version.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    for (const p of ['/healthz', '/readyz', '/livez']) {
      const res = await anonymous(sim, p);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok');
    }
    const groups = await getJson(sim, '/apis');
    const names = groups.body.groups.map((g: any) => g.name);
    expect(names).toContain('argoproj.io');
    expect(names).toContain('apps');
    expect(names).not.toContain('cilium.io');
    const argo = await getJson(sim, '/apis/argoproj.io/v1alpha1');
    const plurals = argo.body.resources.map((r: any) => r.name);
    expect(plurals).toEqual(expect.arrayContaining(['rollouts', 'analysisruns', 'analysistemplates', 'clusteranalysistemplates', 'experiments']));
    expect(plurals).not.toContain('applications');
    const coreResources = await getJson(sim, '/api/v1');
    expect(coreResources.body.resources.find((r: any) => r.name === 'pods/log')).toMatchObject({ verbs: ['get'] });
    expect((await getJson(sim, '/api')).body.versions).toEqual(['v1']);
  });

  it('requires the bearer token: 401 Unauthorized otherwise', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
      const res = await anonymous(sim, `/api/v1/pods`, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401, message: 'Unauthorized' });
    }
    expect(sim.requests.at(-1)).toMatchObject({ status: 401, user: 'system:anonymous' });
  });

  it('answers 405 for verbs a resource does not have', async () => {
    const review = await get(sim, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    expect(review.status).toBe(405);
    expect(await review.json()).toMatchObject({ reason: 'MethodNotAllowed', message: 'the server does not allow this method on the requested resource' });
    const collection = await get(sim, '/api/v1/namespaces/team-a/pods', { method: 'DELETE' });
    expect(collection.status).toBe(405);
    expect(await collection.json()).toMatchObject({ reason: 'MethodNotAllowed', message: 'deletecollection is not supported on resources of kind "pods"' });
  });
});

describe('simulated API: changes at run time and the request log', () => {
  let sim: SimulatedCluster;
  beforeAll(async () => {
    sim = await startSimulator({ objects: [pod('ns', 'p-1', { app: 'a' })] });
  });
  afterAll(() => sim.close());

  it('apply adds and replaces, remove deletes, objects returns copies', async () => {
    const core = kubeConfigFor(sim).makeApiClient(CoreV1Api);
    sim.apply(pod('ns', 'p-2', { app: 'a' }));
    sim.apply(pod('ns', 'p-1', { app: 'b' }));
    expect((await core.listNamespacedPod({ namespace: 'ns', labelSelector: 'app=a' })).items.map((p) => p.metadata?.name)).toEqual(['p-2']);
    expect((await core.readNamespacedPod({ namespace: 'ns', name: 'p-1' })).metadata?.labels).toEqual({ app: 'b' });
    expect(sim.remove('v1', 'Pod', 'ns', 'p-2')).toBe(true);
    expect(sim.remove('v1', 'Pod', 'ns', 'p-2')).toBe(false);
    expect((await core.listNamespacedPod({ namespace: 'ns' })).items.map((p) => p.metadata?.name)).toEqual(['p-1']);
    const copy = sim.objects('Pod')[0] as any;
    copy.metadata.labels.app = 'mutated';
    expect((sim.objects('pods')[0] as any).metadata.labels.app).toBe('b');
  });

  it('makes a custom kind appear with its first object and disappear with its last', async () => {
    const custom = kubeConfigFor(sim).makeApiClient(CustomObjectsApi);
    const list = { group: 'cilium.io', version: 'v2', plural: 'ciliumenvoyconfigs' };
    expect((await apiError(custom.listClusterCustomObject(list))).code).toBe(404);
    sim.apply({ apiVersion: 'cilium.io/v2', kind: 'CiliumEnvoyConfig', metadata: { name: 'litellm', namespace: 'litellm' }, spec: {} });
    const listed = (await custom.listClusterCustomObject(list)) as any;
    expect(listed.items.map((i: any) => i.metadata.name)).toEqual(['litellm']);
    expect(sim.remove('cilium.io/v2', 'CiliumEnvoyConfig', 'litellm', 'litellm')).toBe(true);
    expect((await apiError(custom.listClusterCustomObject(list))).code).toBe(404);
  });

  it('logs every request with resource, verb, status, bytes, user and timing', async () => {
    sim.clearRequests();
    expect(sim.requests).toHaveLength(0);
    const core = kubeConfigFor(sim).makeApiClient(CoreV1Api);
    await core.listNamespacedPod({ namespace: 'ns', labelSelector: 'app=b' });
    await apiError(core.readNamespacedPod({ namespace: 'ns', name: 'missing' }));
    await anonymous(sim, `/healthz`);
    const [list, read, health] = sim.requests;
    expect(list).toMatchObject({
      method: 'GET',
      path: '/api/v1/namespaces/ns/pods',
      query: 'labelSelector=app%3Db',
      resource: 'pods',
      group: '',
      verb: 'list',
      namespace: 'ns',
      status: 200,
      user: 'kubernetes-admin',
      forbidden: false,
    });
    expect(list?.bytes).toBeGreaterThan(100);
    expect(list?.durationMs).toBeGreaterThan(0);
    expect(read).toMatchObject({ verb: 'get', status: 404 });
    expect(health).toMatchObject({ path: '/healthz', resource: '', status: 200 });
  });

  it('refuses to listen outside loopback', async () => {
    await expect(startSimulator({ host: '0.0.0.0' })).rejects.toThrow(/not a loopback address/);
    // A documentation address (RFC 5737 TEST-NET-3): refused before anything listens.
    await expect(startSimulator({ host: '203.0.113.206' })).rejects.toThrow(/not a loopback address/);
  });

  it('writes a kubeconfig file that client-node loads', async () => {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromString(sim.kubeconfigYaml());
    const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'ns' });
    expect(pods.items.map((p) => p.metadata?.name)).toEqual(['p-1']);
  });
});
