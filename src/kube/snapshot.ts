/**
 * One snapshot of the cluster per cycle: every kind the enabled checks need, each asking only for
 * what the checks read (rollout pods and ReplicaSets by the rollouts-pod-template-hash label, the
 * controller namespace's pods and ConfigMaps, Warning events of pods), each object cut down to the
 * fields the checks read (./projection.ts) as it arrives. Checks never list the cluster themselves.
 *
 * Where the snapshot comes from is a `SnapshotSource`: `ListSource` here lists every kind per cycle
 * (one-shot `check`, and per kind the fallback when watching is forbidden); `CacheSource`
 * (./cache.ts) keeps the kinds with list + watch and hands each cycle a consistent view of them.
 */
import { POD_TEMPLATE_HASH_LABEL } from '../argo/names.js';
import type { Config } from '../config/schema.js';
import { globToRegExp } from '../config/glob.js';
import type { RequestScope } from './client.js';
import type { KubeError } from './errors.js';
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
  /** API group ('' for core), version and REST plural: the permission the list needs and the URL. */
  group: string;
  version: string;
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
  rollouts: { group: 'argoproj.io', version: 'v1alpha1', resource: 'rollouts', custom: { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts', namespaced: true } },
  analysisruns: { group: 'argoproj.io', version: 'v1alpha1', resource: 'analysisruns', custom: { group: 'argoproj.io', version: 'v1alpha1', plural: 'analysisruns', namespaced: true } },
  experiments: { group: 'argoproj.io', version: 'v1alpha1', resource: 'experiments', custom: { group: 'argoproj.io', version: 'v1alpha1', plural: 'experiments', namespaced: true } },
  analysistemplates: {
    group: 'argoproj.io',
    version: 'v1alpha1',
    resource: 'analysistemplates',
    custom: { group: 'argoproj.io', version: 'v1alpha1', plural: 'analysistemplates', namespaced: true },
  },
  clusteranalysistemplates: {
    group: 'argoproj.io',
    version: 'v1alpha1',
    resource: 'clusteranalysistemplates',
    custom: { group: 'argoproj.io', version: 'v1alpha1', plural: 'clusteranalysistemplates', namespaced: false },
  },
  applications: { group: 'argoproj.io', version: 'v1alpha1', resource: 'applications', custom: { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications', namespaced: true } },
  pods: { group: '', version: 'v1', resource: 'pods', labelSelector: POD_TEMPLATE_HASH_LABEL },
  controllerPods: { group: '', version: 'v1', resource: 'pods', controllerNamespaceOnly: true },
  replicasets: { group: 'apps', version: 'v1', resource: 'replicasets', labelSelector: POD_TEMPLATE_HASH_LABEL },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments' },
  services: { group: '', version: 'v1', resource: 'services' },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', fallback: 'endpoints' },
  endpoints: { group: '', version: 'v1', resource: 'endpoints' },
  configmaps: { group: '', version: 'v1', resource: 'configmaps', controllerNamespaceOnly: true },
  events: { group: '', version: 'v1', resource: 'events', fieldSelector: 'involvedObject.kind=Pod,type=Warning' },
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

/** What a kind's list (or its cache) came to; the items are already projected. */
export type Outcome = { state: 'ok'; items: readonly unknown[] } | { state: 'absent'; reason: string } | { state: 'error'; error: KubeError };

/** A kind read by lists per cycle because watching it is forbidden, with the API's answer. */
export interface WatchFallback {
  kind: string;
  reason: string;
}

/** Where a cycle's snapshot comes from: lists per cycle (./lists.ts) or the informer cache (./cache.ts). */
export interface SnapshotSource {
  /** The kinds of `request`, as one consistent view; waits (within the scope's deadline) for what it has to fetch. */
  snapshot(request: SnapshotRequest, config: Config, scope: RequestScope, now: Date): Promise<Snapshot>;
  /** Kinds the source lists every cycle although it would rather watch them (watching is forbidden). */
  watchFallbacks(): WatchFallback[];
  /** Stops whatever the source keeps running (watches). */
  close(): Promise<void>;
}

/** A source that knows when kinds change (the cache), so verdicts can follow between cycles. */
export interface LiveSource extends SnapshotSource {
  /** Called (synchronously) whenever a kind changed; `takeChanges` says which. */
  onChange(listener: () => void): void;
  /** The kinds changed since the last full snapshot or the last call. */
  takeChanges(): Set<string>;
  /** The current view without waiting or listing; undefined while a kind has not answered its first list. */
  view(request: SnapshotRequest, config: Config, now: Date): Snapshot | undefined;
}

export function isLiveSource(source: SnapshotSource): source is LiveSource {
  return 'takeChanges' in source;
}

/** One kind as a source fetches it: a built-in snapshot kind or a custom kind named by config. */
export interface KindQuery {
  /** The snapshot's key: the KindName, or customKindKey(ref). */
  key: string;
  group: string;
  version: string;
  /** REST plural. */
  plural: string;
  /** REST resource as requests are counted and errors name it: `pods`, `replicasets.apps`. */
  resource: string;
  /** Only this namespace (else cluster-wide). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** A custom resource: a 404 means its CRD is not installed (`absent`), not an error. */
  isCustom: boolean;
  /** Fetched instead when this kind answers 404 (EndpointSlices -> Endpoints). */
  fallback?: KindQuery;
}

function restResource(group: string, plural: string): string {
  return group ? `${plural}.${group}` : plural;
}

export function kindQuery(kind: KindName, config: Config): KindQuery {
  const spec = KIND_SPECS[kind];
  return {
    key: kind,
    group: spec.group,
    version: spec.version,
    plural: spec.resource,
    resource: restResource(spec.group, spec.resource),
    namespace: spec.controllerNamespaceOnly ? config.controller.namespace : undefined,
    labelSelector: spec.labelSelector,
    fieldSelector: spec.fieldSelector,
    isCustom: Boolean(spec.custom),
    fallback: spec.fallback ? kindQuery(spec.fallback, config) : undefined,
  };
}

export function customKindQuery(ref: CustomKindRef): KindQuery {
  return { key: customKindKey(ref), group: ref.group, version: ref.version, plural: ref.plural, resource: restResource(ref.group, ref.plural), isCustom: true };
}

/** The queries of a request: each kind once (a fallback kind also asked for directly is its own query). */
export function kindQueries(request: SnapshotRequest, config: Config): KindQuery[] {
  const kinds = [...new Set(request.kinds)];
  const queries = kinds.map((kind) => {
    const query = kindQuery(kind, config);
    return query.fallback && kinds.includes(query.fallback.key as KindName) ? { ...query, fallback: undefined } : query;
  });
  const customs = new Map(request.customKinds.map((ref) => [customKindKey(ref), customKindQuery(ref)]));
  return [...queries, ...customs.values()];
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

function isFallbackKind(key: string): boolean {
  return Object.values(KIND_SPECS).some((spec) => spec.fallback === key);
}

function metadataOf(item: unknown): { namespace?: string; name?: string } {
  return ((item as { metadata?: { namespace?: string; name?: string } }).metadata ?? {}) as { namespace?: string; name?: string };
}

/** The view a cycle reads: the kinds' outcomes, the Rollouts limited to the namespaces in scope. */
export function snapshotOf(takenAt: Date, outcomes: Map<string, Outcome>, config: Config): ListSnapshot {
  const rollouts = outcomes.get('rollouts');
  if (rollouts?.state === 'ok') {
    const inScope = namespaceFilter(config);
    outcomes.set('rollouts', { state: 'ok', items: rollouts.items.filter((r) => inScope(metadataOf(r).namespace)) });
  }
  return new ListSnapshot(takenAt, outcomes);
}

/** A snapshot held in memory, with lazily built per-namespace indexes. */
export class ListSnapshot implements Snapshot {
  private readonly byNamespace = new Map<string, Map<string, unknown[]>>();
  private readonly byName = new Map<string, Map<string, unknown>>();

  constructor(
    readonly takenAt: Date,
    private readonly outcomes: Map<string, Outcome>,
  ) {}

  private items(key: string): readonly unknown[] {
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
