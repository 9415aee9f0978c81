/**
 * One snapshot of the cluster per cycle: a list per kind the enabled checks need, fetched
 * concurrently, each asking only for what the checks read (rollout pods and ReplicaSets by the
 * rollouts-pod-template-hash label, the controller namespace's pods and ConfigMaps, Warning events of
 * pods) with resourceVersion=0 so a real API server answers from its watch cache. Checks never list
 * the cluster themselves. `Snapshot` is an interface so an informer-backed cache can replace the
 * lists later without touching the checks.
 */
import type { ConfigurationOptions } from '@kubernetes/client-node';
import { POD_TEMPLATE_HASH_LABEL } from '../argo/names.js';
import type { Config } from '../config/schema.js';
import { globToRegExp } from '../config/glob.js';
import type { KubeClient, RequestScope } from './client.js';
import { KubeError } from './errors.js';
import type {
  ConfigMap,
  CustomObject,
  Deployment,
  EndpointSlice,
  Endpoints,
  Event,
  Pod,
  ReplicaSet,
  Rollout,
  Service,
} from './types.js';

/** A custom resource kind known by group/version/plural (traffic-router objects come from config). */
export interface CustomKindRef {
  group: string;
  version: string;
  plural: string;
  /** Cluster-scoped kinds are listed the same way; this only documents the scope. */
  namespaced: boolean;
}

interface KindTypes {
  rollouts: Rollout;
  analysisruns: CustomObject;
  experiments: CustomObject;
  analysistemplates: CustomObject;
  clusteranalysistemplates: CustomObject;
  applications: CustomObject;
  pods: Pod;
  controllerPods: Pod;
  replicasets: ReplicaSet;
  deployments: Deployment;
  services: Service;
  endpointslices: EndpointSlice;
  endpoints: Endpoints;
  configmaps: ConfigMap;
  events: Event;
}

export type KindName = keyof KindTypes;
export type KindItem<K extends KindName> = KindTypes[K];

/** How each built-in snapshot kind is fetched and which permission that takes. */
export interface KindSpec {
  /** API group ('' for core) and REST plural: the permission the list needs. */
  group: string;
  resource: string;
  /** Listed in the controller namespace only (else cluster-wide). */
  controllerNamespaceOnly?: boolean;
  labelSelector?: string;
  fieldSelector?: string;
  custom?: CustomKindRef;
  /** Fetched instead when this kind answers 404 (EndpointSlices -> Endpoints). */
  fallback?: KindName;
}


export const KIND_SPECS: Record<KindName, KindSpec> = {
  rollouts: { group: 'argoproj.io', resource: 'rollouts', custom: { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts', namespaced: true } },
  analysisruns: { group: 'argoproj.io', resource: 'analysisruns', custom: { group: 'argoproj.io', version: 'v1alpha1', plural: 'analysisruns', namespaced: true } },
  experiments: { group: 'argoproj.io', resource: 'experiments', custom: { group: 'argoproj.io', version: 'v1alpha1', plural: 'experiments', namespaced: true } },
  analysistemplates: {
    group: 'argoproj.io',
    resource: 'analysistemplates',
    custom: { group: 'argoproj.io', version: 'v1alpha1', plural: 'analysistemplates', namespaced: true },
  },
  clusteranalysistemplates: {
    group: 'argoproj.io',
    resource: 'clusteranalysistemplates',
    custom: { group: 'argoproj.io', version: 'v1alpha1', plural: 'clusteranalysistemplates', namespaced: false },
  },
  applications: { group: 'argoproj.io', resource: 'applications', custom: { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications', namespaced: true } },
  pods: { group: '', resource: 'pods', labelSelector: POD_TEMPLATE_HASH_LABEL },
  controllerPods: { group: '', resource: 'pods', controllerNamespaceOnly: true },
  replicasets: { group: 'apps', resource: 'replicasets', labelSelector: POD_TEMPLATE_HASH_LABEL },
  deployments: { group: 'apps', resource: 'deployments' },
  services: { group: '', resource: 'services' },
  endpointslices: { group: 'discovery.k8s.io', resource: 'endpointslices', fallback: 'endpoints' },
  endpoints: { group: '', resource: 'endpoints' },
  configmaps: { group: '', resource: 'configmaps', controllerNamespaceOnly: true },
  events: { group: '', resource: 'events', fieldSelector: 'involvedObject.kind=Pod,type=Warning' },
};

export function customKindKey(ref: CustomKindRef): string {
  return `${ref.plural}.${ref.group}/${ref.version}`;
}

export type ListState =
  | { state: 'ok'; count: number }
  | { state: 'absent'; reason: string }
  | { state: 'error'; error: KubeError };

export interface Snapshot {
  readonly takenAt: Date;
  /** Items of a kind. Throws the list's KubeError when it failed; [] when the kind is not installed. */
  list<K extends KindName>(kind: K): readonly KindItem<K>[];
  /** Items of a kind in one namespace (indexed). */
  inNamespace<K extends KindName>(kind: K, namespace: string): readonly KindItem<K>[];
  /** One object by namespace and name (cluster-scoped kinds: namespace ''). */
  find<K extends KindName>(kind: K, namespace: string, name: string): KindItem<K> | undefined;
  /** Custom kinds requested through config (traffic-router objects). */
  listCustom(ref: CustomKindRef): readonly CustomObject[];
  /** Whether a kind's list succeeded, found the kind absent (CRD not installed), or failed. */
  state(kind: KindName | CustomKindRef): ListState;
  /** Every failed list, for the cycle log and `unknown` reasons. */
  failures(): { kind: string; error: KubeError }[];
}

export interface SnapshotRequest {
  kinds: readonly KindName[];
  customKinds: readonly CustomKindRef[];
}

/**
 * How big lists are read. Every list asks with resourceVersion=0, so kube-apiserver answers from its
 * watch cache: consistent at one resourceVersion, no etcd read, and the whole kind in one answer
 * (the cache ignores `limit` for resourceVersion=0: apiserver pkg/storage/cacher/cacher.go
 * computeListLimit, v1.32.0). That is what client-go's informers do for their initial list, and what
 * a poller every 30 s should do: paginated consistent reads (no resourceVersion) would send every
 * page of every cycle to etcd. The request timeout follows the answer's progress (client.ts), so a
 * 50,000-pod answer of tens of MB is read as long as it keeps arriving.
 *
 * A server without a watch cache (--watch-cache=false) honours `limit` with resourceVersion=0 and
 * pages: those pages are followed, and a continue token that expired between two pages (410) starts
 * the list over once.
 */
const PAGE_SIZE = 5000;

/** A list as the API server writes it (JSON, before any library model). */
interface RawList {
  items?: unknown[];
  metadata?: { continue?: string };
}

type Outcome = { state: 'ok'; items: unknown[] } | { state: 'absent'; reason: string } | { state: 'error'; error: KubeError };

interface Lister {
  resource: string;
  namespace?: string;
  /** Asks for one page through client-node; the answer is read raw by requestJson. */
  page(continueToken: string | undefined, options: ConfigurationOptions): Promise<unknown>;
}

function builtinLister(client: KubeClient, spec: KindSpec, config: Config): Lister {
  const namespace = spec.controllerNamespaceOnly ? config.controller.namespace : undefined;
  const query = (continueToken: string | undefined) => ({
    labelSelector: spec.labelSelector,
    fieldSelector: spec.fieldSelector,
    limit: PAGE_SIZE,
    _continue: continueToken,
    // resourceVersion=0 lets the API server answer from its watch cache; it may not be combined with continue.
    resourceVersion: continueToken ? undefined : '0',
  });
  if (spec.custom) return customLister(client, spec.custom, spec.labelSelector);
  switch (spec.resource) {
    case 'pods':
      return {
        resource: 'pods',
        namespace,
        page: (c, o) => (namespace ? client.core.listNamespacedPod({ namespace, ...query(c) }, o) : client.core.listPodForAllNamespaces(query(c), o)),
      };
    case 'replicasets':
      return { resource: 'replicasets.apps', page: (c, o) => client.apps.listReplicaSetForAllNamespaces(query(c), o) };
    case 'deployments':
      return { resource: 'deployments.apps', page: (c, o) => client.apps.listDeploymentForAllNamespaces(query(c), o) };
    case 'services':
      return { resource: 'services', page: (c, o) => client.core.listServiceForAllNamespaces(query(c), o) };
    case 'endpointslices':
      return {
        resource: 'endpointslices.discovery.k8s.io',
        page: (c, o) => client.discovery.listEndpointSliceForAllNamespaces(query(c), o),
      };
    case 'endpoints':
      return { resource: 'endpoints', page: (c, o) => client.core.listEndpointsForAllNamespaces(query(c), o) };
    case 'configmaps':
      return {
        resource: 'configmaps',
        namespace,
        page: (c, o) => client.core.listNamespacedConfigMap({ namespace: namespace ?? 'default', ...query(c) }, o),
      };
    case 'events':
      return { resource: 'events', page: (c, o) => client.core.listEventForAllNamespaces(query(c), o) };
    default:
      throw new Error(`no lister for ${spec.resource}`);
  }
}

function customLister(client: KubeClient, ref: CustomKindRef, labelSelector?: string): Lister {
  return {
    resource: `${ref.plural}.${ref.group}`,
    page: (continueToken, options) =>
      client.custom.listClusterCustomObject(
        {
          group: ref.group,
          version: ref.version,
          plural: ref.plural,
          labelSelector,
          limit: PAGE_SIZE,
          _continue: continueToken,
          resourceVersion: continueToken ? undefined : '0',
        },
        options,
      ),
  };
}

async function listAll(client: KubeClient, lister: Lister, scope: RequestScope): Promise<unknown[]> {
  try {
    return await listPages(client, lister, scope);
  } catch (error) {
    // 410 Expired on a continue page: the snapshot it continued was compacted; read the kind again.
    if (error instanceof KubeError && error.status === 410) return listPages(client, lister, scope);
    throw error;
  }
}

async function listPages(client: KubeClient, lister: Lister, scope: RequestScope): Promise<unknown[]> {
  const items: unknown[] = [];
  let continueToken: string | undefined;
  do {
    const page = (await client.requestJson({ verb: 'list', resource: lister.resource, namespace: lister.namespace }, scope, (options) =>
      lister.page(continueToken, options),
    )) as RawList | null;
    if (!page || typeof page !== 'object' || (page.items !== undefined && !Array.isArray(page.items))) {
      throw new KubeError('InvalidResponse', 0, 'list', lister.resource, 'the answer is not a list', lister.namespace);
    }
    for (const item of page.items ?? []) items.push(item);
    continueToken = page.metadata?.continue || undefined;
  } while (continueToken);
  return items;
}

async function fetchKind(client: KubeClient, lister: Lister, scope: RequestScope, isCustom: boolean): Promise<Outcome> {
  try {
    return { state: 'ok', items: await listAll(client, lister, scope) };
  } catch (error) {
    const kubeError = error instanceof KubeError ? error : new KubeError('InvalidResponse', 0, 'list', lister.resource, String(error));
    // A custom kind answering 404 is a CRD that is not installed: a fact about the cluster, not an error.
    if (isCustom && kubeError.reason === 'NotFound') return { state: 'absent', reason: `${lister.resource} is not installed (no CRD)` };
    return { state: 'error', error: kubeError };
  }
}

/** Which rollouts are in scope: namespaces include/exclude globs. */
export function namespaceFilter(config: Config): (namespace: string | undefined) => boolean {
  const include = config.namespaces.include.map(globToRegExp);
  const exclude = config.namespaces.exclude.map(globToRegExp);
  return (namespace) => {
    const ns = namespace ?? '';
    if (include.length > 0 && !include.some((re) => re.test(ns))) return false;
    return !exclude.some((re) => re.test(ns));
  };
}

export async function takeSnapshot(
  client: KubeClient,
  config: Config,
  request: SnapshotRequest,
  scope: RequestScope,
  now: Date,
): Promise<Snapshot> {
  const kinds = [...new Set(request.kinds)];
  const customs = new Map(request.customKinds.map((ref) => [customKindKey(ref), ref]));
  const builtinJobs = kinds.map(async (kind): Promise<[string, Outcome][]> => {
    const spec = KIND_SPECS[kind];
    const outcome = await fetchKind(client, builtinLister(client, spec, config), scope, Boolean(spec.custom));
    if (spec.fallback && !kinds.includes(spec.fallback) && outcome.state === 'error' && outcome.error.reason === 'NotFound') {
      // An API server without this kind (old EndpointSlice-less clusters): record it absent, use the fallback.
      const fallback = await fetchKind(client, builtinLister(client, KIND_SPECS[spec.fallback], config), scope, false);
      return [
        [kind, { state: 'absent', reason: `${spec.resource} not served by this API server; using ${spec.fallback}` }],
        [spec.fallback, fallback],
      ];
    }
    return [[kind, outcome]];
  });
  const customJobs = [...customs].map(async ([key, ref]): Promise<[string, Outcome][]> => [[key, await fetchKind(client, customLister(client, ref), scope, true)]]);
  const outcomes = new Map((await Promise.all([...builtinJobs, ...customJobs])).flat());
  const inScope = namespaceFilter(config);
  const rollouts = outcomes.get('rollouts');
  if (rollouts?.state === 'ok') rollouts.items = rollouts.items.filter((r) => inScope((r as Rollout).metadata?.namespace));
  return new ListSnapshot(now, outcomes);
}

function isFallbackKind(key: string): boolean {
  return Object.values(KIND_SPECS).some((spec) => spec.fallback === key);
}

function metadataOf(item: unknown): { namespace?: string; name?: string } {
  return ((item as { metadata?: { namespace?: string; name?: string } }).metadata ?? {}) as { namespace?: string; name?: string };
}

/** A snapshot held in memory, with lazily built per-namespace indexes. */
export class ListSnapshot implements Snapshot {
  private readonly byNamespace = new Map<string, Map<string, unknown[]>>();
  private readonly byName = new Map<string, Map<string, unknown>>();

  constructor(
    readonly takenAt: Date,
    private readonly outcomes: Map<string, Outcome>,
  ) {}

  private items(key: string): unknown[] {
    const outcome = this.outcomes.get(key);
    // A fallback kind that was not needed (EndpointSlices answered) reads as empty.
    if (!outcome && isFallbackKind(key)) return [];
    if (!outcome) throw new Error(`snapshot kind ${key} was not requested: add it to the check's needs`);
    if (outcome.state === 'error') throw outcome.error;
    return outcome.state === 'ok' ? outcome.items : [];
  }

  list<K extends KindName>(kind: K): readonly KindItem<K>[] {
    return this.items(kind) as KindItem<K>[];
  }

  inNamespace<K extends KindName>(kind: K, namespace: string): readonly KindItem<K>[] {
    let index = this.byNamespace.get(kind);
    if (!index) {
      index = new Map();
      for (const item of this.items(kind)) {
        const ns = metadataOf(item).namespace ?? '';
        let bucket = index.get(ns);
        if (!bucket) index.set(ns, (bucket = []));
        bucket.push(item);
      }
      this.byNamespace.set(kind, index);
    }
    return (index.get(namespace) ?? []) as KindItem<K>[];
  }

  find<K extends KindName>(kind: K, namespace: string, name: string): KindItem<K> | undefined {
    let index = this.byName.get(kind);
    if (!index) {
      index = new Map();
      for (const item of this.items(kind)) {
        const meta = metadataOf(item);
        index.set(`${meta.namespace ?? ''}/${meta.name ?? ''}`, item);
      }
      this.byName.set(kind, index);
    }
    return index.get(`${namespace}/${name}`) as KindItem<K> | undefined;
  }

  listCustom(ref: CustomKindRef): readonly CustomObject[] {
    return this.items(customKindKey(ref)) as CustomObject[];
  }

  state(kind: KindName | CustomKindRef): ListState {
    const key = typeof kind === 'string' ? kind : customKindKey(kind);
    const outcome = this.outcomes.get(key);
    if (!outcome) return { state: 'absent', reason: `${key} was not requested` };
    if (outcome.state === 'ok') return { state: 'ok', count: outcome.items.length };
    return outcome;
  }

  failures(): { kind: string; error: KubeError }[] {
    const out: { kind: string; error: KubeError }[] = [];
    for (const [kind, outcome] of this.outcomes) if (outcome.state === 'error') out.push({ kind, error: outcome.error });
    return out;
  }
}
