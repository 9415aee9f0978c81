/**
 * The one list of what rollout-doctor may do in the cluster, derived from the kinds its snapshot
 * lists and watches and the targeted reads its checks make. self-rbac verifies it with SelfSubjectAccessReviews
 * and deploy/ grants exactly it (a test fails when the ClusterRole and Role drift from it).
 */
import type { Config } from '../config/schema.js';
import { type CustomKindRef, KIND_SPECS, type KindName } from './snapshot.js';

export type TargetedRead = 'pods/log' | 'subjectaccessreviews' | 'selfsubjectaccessreviews';

export interface Permission {
  /** API group, '' for core. */
  group: string;
  resource: string;
  subresource?: string;
  verb: string;
  /** Set for permissions needed in one namespace only (a Role there); else cluster-wide. */
  namespace?: string;
}

export interface PermissionNeeds {
  kinds: readonly KindName[];
  customKinds: readonly CustomKindRef[];
  reads: readonly TargetedRead[];
}

/** `core/pods`, `argoproj.io/rollouts`, `core/pods/log`: the self-rbac target naming. */
export function permissionTarget(permission: Pick<Permission, 'group' | 'resource' | 'subresource'>): string {
  return `${permission.group || 'core'}/${permission.resource}${permission.subresource ? `/${permission.subresource}` : ''}`;
}

export function permissionKey(permission: Permission): string {
  return `${permissionTarget(permission)}:${permission.verb}:${permission.namespace ?? ''}`;
}

/**
 * Reading a kind takes list and watch: the cache lists it once, then watches it (./cache.ts). Without
 * watch it still works, listing the kind every cycle instead.
 */
export const KIND_VERBS = ['list', 'watch'] as const;

export function kindPermissions(kind: KindName, config: Config): Permission[] {
  const spec = KIND_SPECS[kind];
  const namespace = spec.controllerNamespaceOnly ? config.controller.namespace : undefined;
  return KIND_VERBS.map((verb) => ({ group: spec.group, resource: spec.resource, verb, namespace }));
}

export function customKindPermissions(ref: CustomKindRef): Permission[] {
  return KIND_VERBS.map((verb) => ({ group: ref.group, resource: ref.plural, verb }));
}

export function readPermission(read: TargetedRead, config: Config): Permission {
  switch (read) {
    case 'pods/log':
      return { group: '', resource: 'pods', subresource: 'log', verb: 'get', namespace: config.controller.namespace };
    case 'subjectaccessreviews':
      return { group: 'authorization.k8s.io', resource: 'subjectaccessreviews', verb: 'create' };
    case 'selfsubjectaccessreviews':
      return { group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', verb: 'create' };
  }
}

/**
 * Every permission for these needs, deduplicated: a namespaced permission that a cluster-wide one
 * already covers is dropped.
 */
export function requiredPermissions(needs: PermissionNeeds, config: Config): Permission[] {
  const all: Permission[] = [
    ...needs.kinds.flatMap((kind) => kindPermissions(kind, config)),
    ...needs.kinds.flatMap((kind) => {
      const fallback = KIND_SPECS[kind].fallback;
      return fallback ? kindPermissions(fallback, config) : [];
    }),
    ...needs.customKinds.flatMap(customKindPermissions),
    ...needs.reads.map((read) => readPermission(read, config)),
  ];
  const clusterWide = new Set(all.filter((p) => !p.namespace).map((p) => permissionKey(p)));
  const out = new Map<string, Permission>();
  for (const permission of all) {
    if (permission.namespace && clusterWide.has(permissionKey({ ...permission, namespace: undefined }))) continue;
    out.set(permissionKey(permission), permission);
  }
  return [...out.values()].sort((a, b) => permissionKey(a).localeCompare(permissionKey(b)));
}
