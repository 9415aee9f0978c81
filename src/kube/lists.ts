/**
 * Lists: how a kind is read whole, page by page, each item projected (./projection.ts) as the page is
 * parsed. The cache's reflectors list through here before they watch; `ListSource` lists every kind
 * per cycle (one-shot `check`, the tests' fixture cases, and the fallback when watching is forbidden).
 */
import type { ConfigurationOptions } from '@kubernetes/client-node';
import type { Config } from '../config/schema.js';
import type { KubeClient, RequestScope } from './client.js';
import { KubeError } from './errors.js';
import { type Projector, projectorFor } from './projection.js';
import { kindQueries, type KindQuery, type Outcome, type Snapshot, type SnapshotRequest, type SnapshotSource, snapshotOf } from './snapshot.js';

/**
 * How big lists are read. A first list asks with resourceVersion=0, so kube-apiserver answers from
 * its watch cache: consistent at one resourceVersion, no etcd read, and the whole kind in one answer
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
  metadata?: { continue?: string; resourceVersion?: string };
}

export interface ListOptions {
  /**
   * `0` (the default: any recent state, from the watch cache), a resourceVersion (state at least that
   * new, answered whole from the watch cache: a reflector's relist), or `` (a consistent read, paged).
   */
  resourceVersion?: string;
  project?: Projector;
}

export interface ListAnswer {
  items: unknown[];
  /** The list's resourceVersion, where a watch continues from. */
  resourceVersion: string;
}

type Page = (continueToken: string | undefined, options: ConfigurationOptions) => Promise<unknown>;

/** One page of `query`, asked through client-node's typed call for the kind (the answer is read raw by requestJson). */
function pager(client: KubeClient, query: KindQuery, resourceVersion: string): Page {
  const params = (continueToken: string | undefined) => ({
    labelSelector: query.labelSelector,
    fieldSelector: query.fieldSelector,
    // A resourceVersion other than 0 lists whole from the watch cache only without `limit`
    // (client-go v1.32 tools/cache/reflector.go list: "switch off pagination to force listing from watch cache").
    limit: resourceVersion === '0' || resourceVersion === '' ? PAGE_SIZE : undefined,
    _continue: continueToken,
    // A resourceVersion may not be combined with continue.
    resourceVersion: continueToken || resourceVersion === '' ? undefined : resourceVersion,
  });
  const namespace = query.namespace;
  if (query.isCustom) {
    return (c, o) => client.custom.listClusterCustomObject({ group: query.group, version: query.version, plural: query.plural, ...params(c) }, o);
  }
  switch (query.resource) {
    case 'pods':
      return (c, o) => (namespace ? client.core.listNamespacedPod({ namespace, ...params(c) }, o) : client.core.listPodForAllNamespaces(params(c), o));
    case 'replicasets.apps':
      return (c, o) => client.apps.listReplicaSetForAllNamespaces(params(c), o);
    case 'deployments.apps':
      return (c, o) => client.apps.listDeploymentForAllNamespaces(params(c), o);
    case 'services':
      return (c, o) => client.core.listServiceForAllNamespaces(params(c), o);
    case 'endpointslices.discovery.k8s.io':
      return (c, o) => client.discovery.listEndpointSliceForAllNamespaces(params(c), o);
    case 'endpoints':
      return (c, o) => client.core.listEndpointsForAllNamespaces(params(c), o);
    case 'configmaps':
      return (c, o) => client.core.listNamespacedConfigMap({ namespace: namespace ?? 'default', ...params(c) }, o);
    case 'events':
      return (c, o) => client.core.listEventForAllNamespaces(params(c), o);
    default:
      throw new Error(`no lister for ${query.resource}`);
  }
}

async function listPages(client: KubeClient, query: KindQuery, scope: RequestScope, resourceVersion: string, project: Projector): Promise<ListAnswer> {
  const page = pager(client, query, resourceVersion);
  const items: unknown[] = [];
  let continueToken: string | undefined;
  let listVersion = '';
  do {
    const answer = (await client.requestJson({ verb: 'list', resource: query.resource, namespace: query.namespace }, scope, (options) => page(continueToken, options))) as RawList | null;
    if (!answer || typeof answer !== 'object' || (answer.items !== undefined && !Array.isArray(answer.items))) {
      throw new KubeError('InvalidResponse', 0, 'list', query.resource, 'the answer is not a list', query.namespace);
    }
    for (const item of answer.items ?? []) items.push(project(item));
    listVersion ||= answer.metadata?.resourceVersion ?? '';
    continueToken = answer.metadata?.continue || undefined;
  } while (continueToken);
  return { items, resourceVersion: listVersion };
}

/** Lists a kind whole. Throws a KubeError. */
export async function listKind(client: KubeClient, query: KindQuery, scope: RequestScope, options: ListOptions = {}): Promise<ListAnswer> {
  const project = options.project ?? projectorFor(query);
  const resourceVersion = options.resourceVersion ?? '0';
  try {
    return await listPages(client, query, scope, resourceVersion, project);
  } catch (error) {
    // 410 Expired on a continue page: the snapshot it continued was compacted; read the kind again.
    // (A list at a given resourceVersion that answers 410 is too old itself: the caller decides.)
    const isPaged = resourceVersion === '0' || resourceVersion === '';
    if (!(error instanceof KubeError && error.status === 410 && isPaged)) throw error;
    return listPages(client, query, scope, resourceVersion, project);
  }
}

export function asKubeError(error: unknown, verb: string, query: KindQuery): KubeError {
  return error instanceof KubeError ? error : new KubeError('InvalidResponse', 0, verb, query.resource, String(error), query.namespace);
}

/** A custom kind answering 404 is a CRD that is not installed: a fact about the cluster, not an error. */
export function isAbsent(query: KindQuery, error: KubeError): boolean {
  return query.isCustom && error.reason === 'NotFound';
}

export function absentReason(query: KindQuery): string {
  return `${query.resource} is not installed (no CRD)`;
}

/** A built-in kind this API server does not serve, read through its fallback instead. */
export function fallbackReason(query: KindQuery): string {
  return `${query.plural} not served by this API server; using ${query.fallback?.plural ?? ''}`;
}

/** A kind's projection, by its query (tests replace it to record what the checks read). */
export type ProjectorFor = (query: KindQuery) => Projector;

async function fetchOutcome(client: KubeClient, query: KindQuery, scope: RequestScope, projectFor: ProjectorFor): Promise<Outcome> {
  try {
    return { state: 'ok', items: (await listKind(client, query, scope, { project: projectFor(query) })).items };
  } catch (error) {
    const kubeError = asKubeError(error, 'list', query);
    if (isAbsent(query, kubeError)) return { state: 'absent', reason: absentReason(query) };
    return { state: 'error', error: kubeError };
  }
}

/** The outcomes of one kind: itself, or (answering 404) absent and its fallback's. */
export async function fetchWithFallback(client: KubeClient, query: KindQuery, scope: RequestScope, projectFor: ProjectorFor = projectorFor): Promise<[string, Outcome][]> {
  const outcome = await fetchOutcome(client, query, scope, projectFor);
  const fallback = query.fallback;
  if (fallback && outcome.state === 'error' && outcome.error.reason === 'NotFound') {
    // An API server without this kind (old EndpointSlice-less clusters): record it absent, use the fallback.
    return [
      [query.key, { state: 'absent', reason: fallbackReason(query) }],
      [fallback.key, await fetchOutcome(client, fallback, scope, projectFor)],
    ];
  }
  return [[query.key, outcome]];
}

/** Every kind listed again for every cycle, concurrently. */
export class ListSource implements SnapshotSource {
  constructor(
    private readonly client: KubeClient,
    private readonly projectFor: ProjectorFor = projectorFor,
  ) {}

  async snapshot(request: SnapshotRequest, config: Config, scope: RequestScope, now: Date): Promise<Snapshot> {
    const outcomes = await Promise.all(kindQueries(request, config).map((query) => fetchWithFallback(this.client, query, scope, this.projectFor)));
    return snapshotOf(now, new Map(outcomes.flat()), config);
  }

  watchFallbacks(): [] {
    return [];
  }

  async close(): Promise<void> {}
}

/** One snapshot by lists. */
export function takeSnapshot(client: KubeClient, config: Config, request: SnapshotRequest, scope: RequestScope, now: Date): Promise<Snapshot> {
  return new ListSource(client).snapshot(request, config, scope, now);
}
