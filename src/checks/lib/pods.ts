/**
 * Rollout pods, ReplicaSets, Warning events and Service endpoints read from the cycle's snapshot
 * through indexes built once per snapshot (a WeakMap keyed by the snapshot), so that a check over
 * 1,000 rollouts looks each rollout's objects up instead of scanning every pod per rollout.
 */
import { POD_TEMPLATE_HASH_LABEL, SERVICE_NAME_LABEL } from '../../argo/names.js';
import type { Snapshot } from '../../kube/snapshot.js';
import type { ContainerStatus, EndpointSlice, Endpoints, Event, Pod, ReplicaSet, Rollout } from '../../kube/types.js';
import { quote } from '../../text.js';
import { secondsSince, toMillis } from './time.js';


function memo<T>(cache: WeakMap<Snapshot, T>, snapshot: Snapshot, build: () => T): T {
  let value = cache.get(snapshot);
  if (value === undefined) {
    value = build();
    cache.set(snapshot, value);
  }
  return value;
}

const key = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ''}\u0000${name ?? ''}`;

function push<T>(map: Map<string, T[]>, k: string, item: T): void {
  const bucket = map.get(k);
  if (bucket) bucket.push(item);
  else map.set(k, [item]);
}

const podIndexes = new WeakMap<Snapshot, Map<string, Pod[]>>();

/** Pods by namespace and rollouts-pod-template-hash (the snapshot lists only pods with that label). */
export function podsWithHash(snapshot: Snapshot, namespace: string, hash: string): readonly Pod[] {
  const index = memo(podIndexes, snapshot, () => {
    const map = new Map<string, Pod[]>();
    for (const pod of snapshot.list('pods')) {
      const podHash = pod.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
      if (podHash) push(map, key(pod.metadata?.namespace, podHash), pod);
    }
    return map;
  });
  return index.get(key(namespace, hash)) ?? [];
}

const replicaSetIndexes = new WeakMap<Snapshot, Map<string, ReplicaSet[]>>();

/** The ReplicaSets a Rollout owns (by owner uid, else by owner name in its namespace), newest first. */
export function rolloutReplicaSets(snapshot: Snapshot, rollout: Rollout): readonly ReplicaSet[] {
  const index = memo(replicaSetIndexes, snapshot, () => {
    const map = new Map<string, ReplicaSet[]>();
    for (const rs of snapshot.list('replicasets')) {
      const owner = rs.metadata?.ownerReferences?.find((o) => o.kind === 'Rollout' && o.controller !== false);
      if (!owner) continue;
      push(map, owner.uid ? `uid:${owner.uid}` : key(rs.metadata?.namespace, owner.name), rs);
      if (owner.uid) push(map, key(rs.metadata?.namespace, owner.name), rs);
    }
    for (const list of map.values()) list.sort((a, b) => (toMillis(b.metadata?.creationTimestamp) ?? 0) - (toMillis(a.metadata?.creationTimestamp) ?? 0));
    return map;
  });
  const uid = rollout.metadata.uid;
  const byName = index.get(key(rollout.metadata.namespace, rollout.metadata.name)) ?? [];
  if (!uid) return byName;
  // Objects written without uids (fixtures, old exports) still match by owner name.
  return index.get(`uid:${uid}`) ?? byName.filter((rs) => !rs.metadata?.ownerReferences?.some((o) => o.kind === 'Rollout' && o.uid && o.uid !== uid));
}

export function replicaSetHash(rs: ReplicaSet): string | undefined {
  return rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
}

/** Pods of a ReplicaSet: by hash, then by owner reference when the pod carries one. */
export function replicaSetPods(snapshot: Snapshot, rs: ReplicaSet): Pod[] {
  const hash = replicaSetHash(rs);
  if (!hash) return [];
  return podsWithHash(snapshot, rs.metadata?.namespace ?? '', hash).filter((pod) => {
    const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet');
    return !owner || owner.name === rs.metadata?.name;
  });
}

const eventIndexes = new WeakMap<Snapshot, Map<string, Event[]>>();

/** Warning events of one pod (the snapshot lists Warning events of pods cluster-wide). */
export function podWarningEvents(snapshot: Snapshot, namespace: string, pod: string): readonly Event[] {
  const index = memo(eventIndexes, snapshot, () => {
    const map = new Map<string, Event[]>();
    for (const event of snapshot.list('events')) push(map, key(event.involvedObject?.namespace ?? event.metadata?.namespace, event.involvedObject?.name), event);
    return map;
  });
  return index.get(key(namespace, pod)) ?? [];
}

/** When an event last happened: series, lastTimestamp, eventTime, then creation. */
export function eventTimeMs(event: Event): number | undefined {
  return (
    toMillis(event.series?.lastObservedTime as Date | string | undefined) ??
    toMillis(event.lastTimestamp) ??
    toMillis(event.eventTime as Date | string | undefined) ??
    toMillis(event.metadata?.creationTimestamp)
  );
}

const sliceIndexes = new WeakMap<Snapshot, Map<string, EndpointSlice[]>>();
const endpointsIndexes = new WeakMap<Snapshot, Map<string, Endpoints>>();

export interface ServiceEndpoints {
  source: 'EndpointSlice' | 'Endpoints';
  ready: number;
  notReady: number;
  /** Names of the pods behind ready endpoints (targetRef). */
  readyPods: string[];
}

/**
 * Ready and not-ready endpoints of a Service from its EndpointSlices, or from its Endpoints object
 * when the API server does not serve EndpointSlices (the snapshot then records the slices `absent`
 * and lists Endpoints instead). Throws the list's error when the list failed.
 */
export function serviceEndpoints(snapshot: Snapshot, namespace: string, service: string): ServiceEndpoints {
  if (snapshot.state('endpointslices').state === 'absent') {
    const index = memo(endpointsIndexes, snapshot, () => {
      const map = new Map<string, Endpoints>();
      for (const endpoints of snapshot.list('endpoints')) map.set(key(endpoints.metadata?.namespace, endpoints.metadata?.name), endpoints);
      return map;
    });
    const endpoints = index.get(key(namespace, service));
    const out: ServiceEndpoints = { source: 'Endpoints', ready: 0, notReady: 0, readyPods: [] };
    for (const subset of endpoints?.subsets ?? []) {
      for (const address of subset.addresses ?? []) {
        out.ready += 1;
        if (address.targetRef?.name) out.readyPods.push(address.targetRef.name);
      }
      out.notReady += subset.notReadyAddresses?.length ?? 0;
    }
    return out;
  }
  const index = memo(sliceIndexes, snapshot, () => {
    const map = new Map<string, EndpointSlice[]>();
    for (const slice of snapshot.list('endpointslices')) {
      const owner = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (owner) push(map, key(slice.metadata?.namespace, owner), slice);
    }
    return map;
  });
  const out: ServiceEndpoints = { source: 'EndpointSlice', ready: 0, notReady: 0, readyPods: [] };
  for (const slice of index.get(key(namespace, service)) ?? []) {
    for (const endpoint of slice.endpoints ?? []) {
      // discovery.k8s.io/v1: a nil `ready` means unknown, which consumers treat as ready.
      if (endpoint.conditions?.ready === false) {
        out.notReady += 1;
      } else {
        out.ready += 1;
        if (endpoint.targetRef?.name) out.readyPods.push(endpoint.targetRef.name);
      }
    }
  }
  return out;
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Waiting reasons that mean the container will not start without a change (image, config, crash). */
export const FAILING_WAITING_REASONS = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'PreCreateHookError',
  'PostStartHookError',
]);

/** Waiting reasons of a container that is still on its way up. */
const STARTING_REASONS = new Set(['ContainerCreating', 'PodInitializing']);

export interface ContainerProblem {
  container: string;
  reason: string;
  message?: string;
}

export interface PodReport {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  ageSeconds?: number;
  /** The first container waiting for a reason other than starting up. */
  waiting?: ContainerProblem;
  /** PodScheduled=False: the scheduler's reason and message. */
  unschedulable?: { reason: string; message?: string };
  lastTermination?: { container: string; reason?: string; exitCode?: number; finishedAt?: string; secondsAgo?: number };
  terminating?: boolean;
  /** Pod-level reason (Evicted, ...) when the pod failed. */
  reason?: string;
}

export function describePod(pod: Pod, now: Date): PodReport {
  const statuses: ContainerStatus[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const report: PodReport = {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ready: isPodReady(pod),
    restarts: statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0),
  };
  const age = secondsSince(pod.metadata?.creationTimestamp, now);
  if (age !== undefined) report.ageSeconds = age;
  if (pod.metadata?.deletionTimestamp) report.terminating = true;
  if (pod.status?.reason) report.reason = pod.status.reason;
  const waiting = statuses.find((s) => s.state?.waiting?.reason && !STARTING_REASONS.has(s.state.waiting.reason));
  if (waiting?.state?.waiting?.reason) {
    report.waiting = { container: waiting.name, reason: waiting.state.waiting.reason };
    if (waiting.state.waiting.message) report.waiting.message = quote(waiting.state.waiting.message, 240);
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    report.unschedulable = { reason: scheduled.reason ?? 'Unschedulable' };
    if (scheduled.message) report.unschedulable.message = quote(scheduled.message, 300);
  }
  const last = statuses
    .filter((s) => s.lastState?.terminated)
    .sort((a, b) => (toMillis(b.lastState?.terminated?.finishedAt) ?? 0) - (toMillis(a.lastState?.terminated?.finishedAt) ?? 0))[0];
  const terminated = last?.lastState?.terminated;
  if (last && terminated) {
    report.lastTermination = { container: last.name, reason: terminated.reason, exitCode: terminated.exitCode };
    const at = toMillis(terminated.finishedAt);
    if (at !== undefined) {
      report.lastTermination.finishedAt = new Date(at).toISOString();
      report.lastTermination.secondsAgo = secondsSince(terminated.finishedAt, now);
    }
  }
  return report;
}
