/**
 * Projections: each kind cut down, as it arrives (a list's page, a watch event), to the fields the
 * checks read. The cache holds thousands of pods between cycles; what a pod carries that no check
 * reads (managedFields, the last-applied annotation, volumes, env, probes, resources...) would cost
 * memory for nothing. docs/cache.md lists the fields and what each costs.
 *
 * The fields come from reading every check (src/checks and src/checks/lib); test/kube/projection.test.ts
 * keeps them honest: it runs every fixture case with objects that record each field a check reads and
 * fails for a field a projection drops, and the fixture goldens run on projected objects.
 *
 * Custom kinds named by config (traffic-router objects, routes) are read generically by their checks
 * (every string in spec.resources, say): they keep everything but the metadata no check reads.
 */
import type { KindQuery } from './snapshot.js';

/** What a projection keeps: `true` keeps the value whole; an object keeps those keys (of each element, for an array). */
export type Keep = true | { readonly [key: string]: Keep };

export type Projector = (raw: unknown) => unknown;

/** kubectl apply's copy of the whole object: often larger than the object's own spec. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `value` with only what `keep` names. A value of another shape than the projection expects (a
 * string where an object belongs) is kept as it is: the checks report malformed objects, the
 * projection does not hide them.
 */
export function project(value: unknown, keep: Keep): unknown {
  if (keep === true) return value;
  if (Array.isArray(value)) return value.map((item) => project(item, keep));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key in keep) {
    if (key in value) out[key] = project(value[key], keep[key]!);
  }
  return out;
}

/** What every kind keeps of its metadata. */
const METADATA: Keep = {
  name: true,
  namespace: true,
  uid: true,
  generation: true,
  creationTimestamp: true,
  deletionTimestamp: true,
  labels: true,
  annotations: true,
  ownerReferences: { apiVersion: true, kind: true, name: true, uid: true, controller: true },
};

function withoutLastApplied(metadata: unknown): unknown {
  if (!isRecord(metadata) || !isRecord(metadata.annotations) || !(LAST_APPLIED_ANNOTATION in metadata.annotations)) return metadata;
  const { [LAST_APPLIED_ANNOTATION]: _dropped, ...annotations } = metadata.annotations;
  return { ...metadata, annotations };
}

const CONDITIONS: Keep = { type: true, status: true, reason: true, message: true, lastTransitionTime: true, lastUpdateTime: true };

const CONTAINER_STATUS: Keep = { name: true, ready: true, started: true, restartCount: true, image: true, state: true, lastState: true };

const POD: Keep = {
  status: {
    phase: true,
    reason: true,
    message: true,
    conditions: CONDITIONS,
    containerStatuses: CONTAINER_STATUS,
    initContainerStatuses: CONTAINER_STATUS,
  },
};

/** The controller's containers: its version (image tag) and plugin flags (src/argo/controller-version.ts). */
const CONTAINERS: Keep = { name: true, command: true, args: true, image: true };

/** The controller's pods: a rollout pod's status, and the containers that say the controller's version. */
const CONTROLLER_POD: Keep = { ...POD, spec: { containers: CONTAINERS } };

const TARGET_REF: Keep = { kind: true, name: true, namespace: true };

const ANALYSIS_TEMPLATE: Keep = { spec: true };

/**
 * Per kind (the snapshot's key), what the checks read besides metadata (and apiVersion and kind).
 * Gone: pod specs, the pod templates of ReplicaSets, Deployments and Rollouts (but a Deployment's
 * service account), endpoint addresses, Applications' operation state, history and sources.
 */
export const PROJECTIONS: Readonly<Record<string, Keep>> = {
  rollouts: { spec: { replicas: true, paused: true, selector: true, workloadRef: true, strategy: true }, status: true },
  analysisruns: {
    spec: { metrics: true, analysisSpec: { metrics: true }, dryRun: true, args: true },
    status: {
      phase: true,
      message: true,
      startedAt: true,
      metricResults: {
        name: true,
        phase: true,
        message: true,
        dryRun: true,
        count: true,
        successful: true,
        failed: true,
        inconclusive: true,
        error: true,
        consecutiveError: true,
        measurements: { phase: true, message: true, value: true, startedAt: true, finishedAt: true },
      },
    },
  },
  // An Experiment's state as rollout-status shows it (src/argo/experiments.ts): no templates, no spec.
  experiments: {
    status: {
      phase: true,
      message: true,
      templateStatuses: { name: true, status: true, message: true },
      analysisRuns: { name: true, analysisRun: true, phase: true, message: true },
    },
  },
  analysistemplates: ANALYSIS_TEMPLATE,
  clusteranalysistemplates: ANALYSIS_TEMPLATE,
  applications: {
    spec: { ignoreDifferences: true, syncPolicy: { syncOptions: true } },
    status: { sync: { status: true }, health: { status: true }, resources: { group: true, version: true, kind: true, namespace: true, name: true, status: true } },
  },
  pods: POD,
  controllerPods: CONTROLLER_POD,
  replicasets: { spec: { replicas: true, selector: true }, status: true },
  deployments: { spec: { replicas: true, selector: true, template: { spec: { serviceAccountName: true, serviceAccount: true, containers: CONTAINERS } } }, status: true },
  services: { spec: { type: true, selector: true, ports: true } },
  endpointslices: { endpoints: { conditions: true, targetRef: TARGET_REF } },
  endpoints: { subsets: { addresses: { targetRef: TARGET_REF }, notReadyAddresses: { targetRef: TARGET_REF } } },
  // The controller's ConfigMap: its plugin lists (argo-rollouts utils/config/config.go keys).
  configmaps: { data: { trafficRouterPlugins: true, metricProviderPlugins: true, stepPlugins: true } },
  events: {
    involvedObject: TARGET_REF,
    type: true,
    reason: true,
    message: true,
    count: true,
    firstTimestamp: true,
    lastTimestamp: true,
    eventTime: true,
    series: { count: true, lastObservedTime: true },
  },
};

function projector(keep: Keep | undefined): Projector {
  return (raw) => {
    if (!isRecord(raw)) return raw;
    const metadata = withoutLastApplied(project(raw.metadata, METADATA));
    if (keep === undefined) {
      // A custom kind: all of it but the metadata no check reads.
      const { metadata: _raw, ...rest } = raw;
      return { ...rest, metadata };
    }
    const out = project(raw, keep) as Record<string, unknown>;
    if ('apiVersion' in raw) out.apiVersion = raw.apiVersion;
    if ('kind' in raw) out.kind = raw.kind;
    if ('metadata' in raw) out.metadata = metadata;
    return out;
  };
}

const projectors = new Map<string, Projector>();

/** The projection of a kind, by its snapshot key (custom kinds: the generic one). */
export function projectorFor(query: Pick<KindQuery, 'key'>): Projector {
  let found = projectors.get(query.key);
  if (!found) projectors.set(query.key, (found = projector(PROJECTIONS[query.key])));
  return found;
}

/**
 * Whether the projection of kind `key` keeps the field at `path`: segments are keys, `[]` steps into
 * an array's elements, `*` means every key of the object there (it was enumerated).
 */
export function keepsPath(key: string, path: readonly string[]): boolean {
  const root = PROJECTIONS[key];
  if (path[0] === 'apiVersion' || path[0] === 'kind') return true;
  let keep: Keep | undefined = path[0] === 'metadata' ? METADATA : root;
  if (keep === undefined) return true;
  for (const segment of path[0] === 'metadata' ? path.slice(1) : path) {
    if (keep === true) return true;
    if (segment === '[]') continue;
    if (segment === '*') return false;
    keep = keep[segment];
    if (keep === undefined) return false;
  }
  return true;
}
