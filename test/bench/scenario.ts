/**
 * Generated clusters for benchmarks and scale tests: N Rollouts over 200 namespaces with their
 * ReplicaSets, pods (5,000 in all by default), Services, EndpointSlices, AnalysisTemplates and
 * AnalysisRuns, next to the homelab's controller, CRDs and RBAC, so every check has real work.
 * Objects are shaped like the bundled homelab's (healthy, fully promoted).
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { demoScenarioDir } from '../../src/main.js';

export interface ScenarioSize {
  rollouts: number;
  namespaces?: number;
  pods?: number;
}

const CREATED = '2026-11-01T09:00:00Z';
const TRANSITION = '2026-11-20T09:48:50Z';

function hashOf(i: number): string {
  return (0x5a5a5a + i * 7919).toString(16).padStart(10, '7').slice(-10);
}

/** Objects for one rollout: Rollout, ReplicaSet, pods, Services, EndpointSlices, template, run. */
function rolloutObjects(i: number, namespace: string, podCount: number): unknown[] {
  const name = `app-${i}`;
  const hash = hashOf(i);
  const isBlueGreen = i % 2 === 1;
  const labels = { 'app.kubernetes.io/name': name };
  const podLabels = { ...labels, 'rollouts-pod-template-hash': hash };
  const uid = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const rsName = `${name}-${hash}`;
  const services = isBlueGreen ? [name, `${name}-preview`] : [name, `${name}-canary`];
  const template = `${name}-error-rate`;
  const strategy = isBlueGreen
    ? { blueGreen: { activeService: name, previewService: `${name}-preview`, autoPromotionEnabled: false, prePromotionAnalysis: { templates: [{ templateName: template }] } } }
    : {
        canary: {
          canaryService: `${name}-canary`,
          stableService: name,
          trafficRouting: { plugins: { 'argoproj-labs/cilium': {} } },
          steps: [{ setWeight: 20 }, { pause: {} }, { analysis: { templates: [{ templateName: template }] } }, { setWeight: 50 }, { pause: {} }, { analysis: { templates: [{ templateName: template }] } }],
        },
      };
  const status: Record<string, unknown> = {
    phase: 'Healthy',
    message: '',
    observedGeneration: '3',
    currentPodHash: hash,
    stableRS: hash,
    replicas: podCount,
    updatedReplicas: podCount,
    readyReplicas: podCount,
    availableReplicas: podCount,
    selector: `app.kubernetes.io/name=${name}`,
    conditions: [
      { type: 'Available', status: 'True', reason: 'AvailableReason', message: 'Rollout has minimum availability', lastTransitionTime: TRANSITION, lastUpdateTime: TRANSITION },
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.`, lastTransitionTime: TRANSITION, lastUpdateTime: TRANSITION },
      { type: 'Healthy', status: 'True', reason: 'RolloutHealthy', message: 'Rollout is healthy', lastTransitionTime: TRANSITION, lastUpdateTime: TRANSITION },
    ],
  };
  if (isBlueGreen) status.blueGreen = { activeSelector: hash, previewSelector: hash };
  else {
    status.currentStepIndex = 6;
    status.currentStepHash = 'stephash';
    status.canary = { weights: { canary: { podTemplateHash: hash, serviceName: `${name}-canary`, weight: 0 }, stable: { podTemplateHash: hash, serviceName: name, weight: 100 } } };
  }
  const objects: unknown[] = [
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name, namespace, uid, generation: 3, creationTimestamp: CREATED, annotations: { 'rollout.argoproj.io/revision': '1' } },
      spec: {
        replicas: podCount,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: `registry.example/app:${i}`, ports: [{ containerPort: 8080 }] }] } },
        strategy,
      },
      status,
    },
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: rsName,
        namespace,
        uid: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        creationTimestamp: CREATED,
        labels: podLabels,
        annotations: { 'rollout.argoproj.io/revision': '1' },
        ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name, uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { replicas: podCount, selector: { matchLabels: podLabels }, template: { metadata: { labels: podLabels }, spec: { containers: [{ name: 'app', image: `registry.example/app:${i}` }] } } },
      status: { replicas: podCount, readyReplicas: podCount, availableReplicas: podCount, fullyLabeledReplicas: podCount, observedGeneration: 1 },
    },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisTemplate',
      metadata: { name: template, namespace },
      spec: { metrics: [{ name: 'error-rate', interval: '1m', count: 5, successCondition: 'default(result[0], 0) < 0.05', provider: { job: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } } } } } }] },
    },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisRun',
      metadata: {
        name: `${name}-${hash}-1`,
        namespace,
        creationTimestamp: TRANSITION,
        labels: { 'rollouts-pod-template-hash': hash, 'rollout-type': isBlueGreen ? 'PrePromotion' : 'Step' },
        ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name, uid, controller: true }],
      },
      spec: { metrics: [{ name: 'error-rate', interval: '1m', count: 5, successCondition: 'default(result[0], 0) < 0.05', provider: { job: {} } }] },
      status: {
        phase: 'Successful',
        startedAt: TRANSITION,
        metricResults: [{ name: 'error-rate', phase: 'Successful', count: 5, successful: 5, measurements: [{ phase: 'Successful', value: '0.01', startedAt: TRANSITION, finishedAt: TRANSITION }] }],
      },
    },
  ];
  const addresses: unknown[] = [];
  for (let p = 0; p < podCount; p++) {
    const podName = `${rsName}-${p.toString(36).padStart(5, 'x')}`;
    const ip = `10.${(i >> 8) & 255}.${i & 255}.${p % 250}`;
    addresses.push({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', name: podName, namespace } });
    objects.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace,
        uid: `20000000-0000-4000-${String(p).padStart(4, '0')}-${String(i).padStart(12, '0')}`,
        creationTimestamp: CREATED,
        labels: podLabels,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`, controller: true }],
      },
      spec: { nodeName: `node-${p % 3}`, containers: [{ name: 'app', image: `registry.example/app:${i}`, ports: [{ containerPort: 8080 }] }] },
      status: {
        phase: 'Running',
        podIP: ip,
        startTime: CREATED,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: CREATED },
          { type: 'Initialized', status: 'True', lastTransitionTime: CREATED },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: CREATED },
          { type: 'Ready', status: 'True', lastTransitionTime: CREATED },
        ],
        containerStatuses: [{ name: 'app', ready: true, started: true, restartCount: 0, image: `registry.example/app:${i}`, imageID: 'sha256:0', state: { running: { startedAt: CREATED } } }],
      },
    });
  }
  for (const service of services) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: service, namespace, annotations: { 'argo-rollouts.argoproj.io/managed-by-rollouts': name } },
      spec: { type: 'ClusterIP', selector: podLabels, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    objects.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${service}-abcde`, namespace, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: addresses,
    });
  }
  return objects;
}

/** The folders of the homelab scenario that describe the cluster's platform (not its apps). */
const PLATFORM = ['argo-rollouts', 'argocd', 'cilium', 'cluster', 'logs'];

/** Writes a scenario folder (JSON documents, fastest to load) and returns its object count. */
export function writeScenario(dir: string, size: ScenarioSize): number {
  const namespaces = size.namespaces ?? 200;
  const totalPods = size.pods ?? 5000;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const folder of PLATFORM) cpSync(path.join(demoScenarioDir(), folder), path.join(dir, folder), { recursive: true });
  const podsPerRollout = Math.max(1, Math.floor(totalPods / size.rollouts));
  let count = 0;
  const namespaceObjects: unknown[] = [];
  for (let n = 0; n < Math.min(namespaces, size.rollouts); n++) namespaceObjects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `team-${n}` } });
  writeFileSync(path.join(dir, 'namespaces.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: namespaceObjects }));
  count += namespaceObjects.length;
  const batch: unknown[] = [];
  let file = 0;
  const flush = () => {
    if (batch.length === 0) return;
    writeFileSync(path.join(dir, `apps-${String(file++).padStart(4, '0')}.json`), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: batch }));
    count += batch.length;
    batch.length = 0;
  };
  for (let i = 0; i < size.rollouts; i++) {
    batch.push(...rolloutObjects(i, `team-${i % namespaces}`, podsPerRollout));
    if (batch.length > 5000) flush();
  }
  flush();
  return count;
}

/** What `SimulatedCluster.remove` needs to delete one object. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export function refOf(object: unknown): ObjectRef {
  const o = object as { apiVersion: string; kind: string; metadata: { namespace?: string; name: string } };
  return { apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name };
}

/**
 * The objects of generated rollout `app-<i>` in `namespace` (its ReplicaSet, pods, Services,
 * EndpointSlices, AnalysisTemplate and AnalysisRun), for targets that appear and disappear while a
 * benchmark runs: apply the objects, later remove them by their refs.
 */
export function generatedRollout(i: number, namespace: string, pods = 3): { objects: unknown[]; refs: ObjectRef[] } {
  const objects = rolloutObjects(i, namespace, pods);
  return { objects, refs: objects.map(refOf) };
}
