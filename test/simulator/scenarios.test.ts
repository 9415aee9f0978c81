import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppsV1Api, AuthorizationV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api } from '@kubernetes/client-node';
import { HOMELAB_SCENARIO_DIR, loadScenario, startSimulator, type SimulatedCluster } from '../../src/simulator/index.js';
import { kubeConfigFor } from './helpers.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = path.resolve(REPO, 'test/fixtures/upstream');
const ARGO = { group: 'argoproj.io', version: 'v1alpha1' };

describe('bundled homelab scenario', () => {
  let sim: SimulatedCluster;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let custom: CustomObjectsApi;
  // The demo's key file, read the way the demo config reads it.
  const demoKey = readFileSync(path.join(HOMELAB_SCENARIO_DIR, 'demo-litellm.key'), 'utf8').trim();
  beforeAll(async () => {
    // Fixed fake app addresses are exercised once, below; here they move to ephemeral ports.
    sim = await startSimulator({ dir: HOMELAB_SCENARIO_DIR, ephemeralAppPorts: true });
    const kc = kubeConfigFor(sim);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
  });
  afterAll(async () => {
    await sim.close();
  });

  it('runs the Argo Rollouts controller and dashboard as the Helm chart labels them', async () => {
    const controller = await apps.listNamespacedDeployment({
      namespace: 'argo-rollouts',
      labelSelector: 'app.kubernetes.io/name=argo-rollouts,app.kubernetes.io/component=rollouts-controller',
    });
    expect(controller.items.map((d) => d.metadata?.name)).toEqual(['argo-rollouts']);
    expect(controller.items[0]?.spec?.selector.matchLabels).toMatchObject({
      'app.kubernetes.io/name': 'argo-rollouts',
      'app.kubernetes.io/component': 'rollouts-controller',
    });
    const pods = await core.listNamespacedPod({ namespace: 'argo-rollouts', labelSelector: 'app.kubernetes.io/component in (rollouts-controller, rollouts-dashboard)' });
    expect(pods.items).toHaveLength(2);
    for (const p of pods.items) {
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
    const rs = await apps.listNamespacedReplicaSet({ namespace: 'argo-rollouts', labelSelector: 'app.kubernetes.io/component=rollouts-controller' });
    expect(rs.items[0]?.status?.readyReplicas).toBe(1);
  });

  it('configures the Cilium traffic-router plugin and lets the controller manage CiliumEnvoyConfigs', async () => {
    const cm = await core.readNamespacedConfigMap({ namespace: 'argo-rollouts', name: 'argo-rollouts-config' });
    const plugins = cm.data?.['trafficRouterPlugins'] ?? '';
    expect(plugins).toContain('- name: argoproj-labs/cilium');
    expect(plugins).toMatch(/location: https:\/\/github\.com\/.+\/releases\/download\//);
    const review = await kubeConfigFor(sim)
      .makeApiClient(AuthorizationV1Api)
      .createSubjectAccessReview({
        body: {
          spec: {
            user: 'system:serviceaccount:argo-rollouts:argo-rollouts',
            resourceAttributes: { verb: 'create', group: 'cilium.io', resource: 'ciliumenvoyconfigs', namespace: 'litellm' },
          },
        },
      });
    expect(review.status).toMatchObject({
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "argo-rollouts" of ClusterRole "argo-rollouts" to ServiceAccount "argo-rollouts/argo-rollouts"',
    });
    // The CRD is installed; no CiliumEnvoyConfig exists while the canary holds no traffic.
    const cecs = (await custom.listClusterCustomObject({ group: 'cilium.io', version: 'v2', plural: 'ciliumenvoyconfigs' })) as any;
    expect(cecs.items).toEqual([]);
  });

  it('has the LiteLLM canary Rollout fully promoted and Healthy', async () => {
    const ro = (await custom.getNamespacedCustomObject({ ...ARGO, namespace: 'litellm', plural: 'rollouts', name: 'litellm' })) as any;
    const canary = ro.spec.strategy.canary;
    expect(canary.steps).toHaveLength(6);
    expect(canary.steps.map((s: Record<string, unknown>) => Object.keys(s)[0])).toEqual(['setWeight', 'pause', 'analysis', 'setWeight', 'pause', 'analysis']);
    expect(canary.steps[2].analysis.templates[0].templateName).toBe('litellm-error-rate');
    expect(canary).toMatchObject({ canaryService: 'litellm-canary', stableService: 'litellm', trafficRouting: { plugins: { 'argoproj-labs/cilium': {} } } });
    expect(ro.spec.workloadRef).toMatchObject({ kind: 'Deployment', name: 'litellm', scaleDown: 'onsuccess' });
    expect(ro.status).toMatchObject({ phase: 'Healthy', currentStepIndex: 6, observedGeneration: String(ro.metadata.generation) });
    expect(ro.status.stableRS).toBe(ro.status.currentPodHash);
    for (const type of ['Available', 'Progressing', 'Healthy']) {
      expect(ro.status.conditions.find((c: any) => c.type === type)?.status, type).toBe('True');
    }
    const hash = ro.status.currentPodHash as string;
    const pods = await core.listNamespacedPod({ namespace: 'litellm', labelSelector: `rollouts-pod-template-hash=${hash}` });
    expect(pods.items.map((p) => p.status?.phase)).toEqual(['Running']);
    for (const name of ['litellm', 'litellm-canary']) {
      const svc = await core.readNamespacedService({ namespace: 'litellm', name });
      expect(svc.spec?.selector?.['rollouts-pod-template-hash']).toBe(hash);
    }
    const slices = await kubeConfigFor(sim)
      .makeApiClient(DiscoveryV1Api)
      .listNamespacedEndpointSlice({ namespace: 'litellm', labelSelector: 'kubernetes.io/service-name in (litellm, litellm-canary)' });
    expect(slices.items).toHaveLength(2);
    expect(slices.items.every((s) => (s.endpoints ?? []).every((e) => e.conditions?.ready === true))).toBe(true);
    const deploy = await apps.readNamespacedDeployment({ namespace: 'litellm', name: 'litellm' });
    expect(deploy.spec?.replicas).toBe(0);
  });

  it('analyses with VictoriaMetrics on loopback and keeps Argo CD from fighting the scale-down', async () => {
    const tmpl = (await custom.getNamespacedCustomObject({ ...ARGO, namespace: 'litellm', plural: 'analysistemplates', name: 'litellm-error-rate' })) as any;
    expect(tmpl.spec.metrics[0].provider.prometheus.address).toMatch(/^http:\/\/127\.\d+\.\d+\.\d+:\d+$/);
    const runs = (await custom.listNamespacedCustomObject({ ...ARGO, namespace: 'litellm', plural: 'analysisruns' })) as any;
    expect(runs.items.map((r: any) => r.status.phase)).toEqual(['Successful', 'Successful']);
    const app = (await custom.getNamespacedCustomObject({ ...ARGO, namespace: 'argocd', plural: 'applications', name: 'litellm' })) as any;
    expect(app.spec.ignoreDifferences).toContainEqual(
      expect.objectContaining({ group: 'apps', kind: 'Deployment', name: 'litellm', jsonPointers: ['/spec/replicas'] }),
    );
    expect(app.spec.syncPolicy.syncOptions).toContain('RespectIgnoreDifferences=true');
    expect(app.status).toMatchObject({ sync: { status: 'Synced' }, health: { status: 'Healthy' } });
    expect(app.status.resources).toContainEqual(expect.objectContaining({ group: 'apps', kind: 'Deployment', name: 'litellm' }));
  });

  it('has the Sympozium blue-green Rollout promoted and Healthy', async () => {
    const ro = (await custom.getNamespacedCustomObject({ ...ARGO, namespace: 'sympozium-system', plural: 'rollouts', name: 'sympozium-apiserver' })) as any;
    expect(ro.spec.strategy.blueGreen).toMatchObject({
      activeService: 'sympozium-apiserver',
      previewService: 'sympozium-apiserver-preview',
      autoPromotionEnabled: false,
    });
    const templateName = ro.spec.strategy.blueGreen.prePromotionAnalysis.templates[0].templateName;
    const tmpl = (await custom.getNamespacedCustomObject({ ...ARGO, namespace: 'sympozium-system', plural: 'analysistemplates', name: templateName })) as any;
    expect(tmpl.spec.metrics[0].provider.web.url).toMatch(/\/healthz$/);
    expect(ro.status).toMatchObject({ phase: 'Healthy', observedGeneration: String(ro.metadata.generation) });
    expect(ro.status.blueGreen.activeSelector).toBe(ro.status.currentPodHash);
    const pods = await core.listNamespacedPod({ namespace: 'sympozium-system', labelSelector: `rollouts-pod-template-hash=${ro.status.currentPodHash}` });
    expect(pods.items).toHaveLength(2);
  });

  it('serves the controller log with the plugin download at startup', async () => {
    const [pod] = (await core.listNamespacedPod({ namespace: 'argo-rollouts', labelSelector: 'app.kubernetes.io/component=rollouts-controller' })).items;
    const log = await core.readNamespacedPodLog({ namespace: 'argo-rollouts', name: pod?.metadata?.name ?? '' });
    const lines = log.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^time="[^"]+" level=info msg="Argo Rollouts starting"/);
    expect(log).toContain('msg="Downloading plugin argoproj-labs/cilium from: https://github.com/');
    expect(log).toContain('msg="Download complete, it took 1.2s"');
    expect(lines.every((l) => /^time="\d{4}-\d{2}-\d{2}T[^"]+" level=\w+ msg=/.test(l))).toBe(true);
  });

  it('serves LiteLLM /v1/models behind its bearer token and Sympozium /healthz', async () => {
    const litellm = sim.apps.find((a) => a.name === 'litellm')?.url;
    const sympozium = sim.apps.find((a) => a.name === 'sympozium')?.url;
    expect(litellm).toMatch(/^http:\/\/127\.0\.55\.206:\d+$/);
    const models = await fetch(`${litellm}/v1/models`, { headers: { authorization: `Bearer ${demoKey}` } });
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toContain('gpt-4o');
    expect((await fetch(`${litellm}/v1/models`)).status).toBe(401);
    expect(await (await fetch(`${sympozium}/healthz`)).text()).toBe('ok');
  });
});

describe('bundled homelab scenario: fixed fake app addresses', () => {
  it('listens on 127.0.55.206:4000, 127.0.55.207:8080 and 127.0.55.208:8428', async () => {
    const sim = await startSimulator({ dir: HOMELAB_SCENARIO_DIR });
    try {
      expect(sim.apps).toEqual([
        { name: 'litellm', url: 'http://127.0.55.206:4000', declared: 'http://127.0.55.206:4000' },
        { name: 'sympozium', url: 'http://127.0.55.207:8080', declared: 'http://127.0.55.207:8080' },
        { name: 'victoriametrics', url: 'http://127.0.55.208:8428', declared: 'http://127.0.55.208:8428' },
      ]);
      expect((await fetch('http://127.0.55.207:8080/healthz')).status).toBe(200);
    } finally {
      await sim.close();
    }
  });
});

describe('upstream fixtures (test/fixtures/upstream)', () => {
  it('serves argo-rollouts-info/canary', async () => {
    const dir = path.join(FIXTURES, 'argo-rollouts-info/canary');
    const objects = await loadScenario(dir);
    expect(objects.filter((o) => o['kind'] === 'Rollout')).toHaveLength(6);
    const sim = await startSimulator({ dir });
    try {
      const kc = kubeConfigFor(sim);
      const rollouts = (await kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ ...ARGO, plural: 'rollouts' })) as any;
      expect(rollouts.items.map((r: any) => r.metadata.name)).toEqual([
        'canary-demo',
        'canary-demo-pingpong',
        'canary-demo-weights',
        'canary-demo-weights-na',
        'canary-demo-workloadRef',
        'canary-demo-workloadRef-deploy',
      ]);
      // Upstream resourceVersions are kept as they are.
      expect(rollouts.items[0].metadata.resourceVersion).toMatch(/^\d+$/);
      const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'jesse-test', labelSelector: 'app=canary-demo' });
      expect(pods.items).toHaveLength(6);
      const rs = await kc.makeApiClient(AppsV1Api).listNamespacedReplicaSet({ namespace: 'jesse-test', labelSelector: 'rollouts-pod-template-hash' });
      expect(rs.items.length).toBeGreaterThanOrEqual(2);
    } finally {
      await sim.close();
    }
  });

  it('loads every fixture folder', async () => {
    const dirs = ['argo-rollouts-info', 'argocd-health'].flatMap((top) =>
      readdirSync(path.join(FIXTURES, top), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => path.join(FIXTURES, top, d.name)),
    );
    expect(dirs.length).toBeGreaterThanOrEqual(9);
    for (const dir of dirs) {
      const objects = await loadScenario(dir);
      expect(objects.length, dir).toBeGreaterThan(0);
      for (const o of objects) expect((o['metadata'] as { resourceVersion?: unknown }).resourceVersion, dir).toEqual(expect.any(String));
    }
  });
});
