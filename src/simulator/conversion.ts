/**
 * Objects written in API versions that clusters no longer serve, converted at load time as the API
 * server's storage would have converted them: a scenario file may hold a ReplicaSet or Deployment
 * as `extensions/v1beta1`, `apps/v1beta1` or `apps/v1beta2` (old captures such as Argo Rollouts'
 * own kubectl plugin testdata), but since Kubernetes 1.16 every cluster serves those kinds only as
 * `apps/v1` and answers 404 for the old versions.
 *
 * The converted fields follow the conversions and defaults of Kubernetes v1.32
 * (pkg/apis/apps/v1beta2/defaults.go, pkg/apis/extensions/v1beta1/defaults.go and
 * pkg/apis/apps/v1/conversion.go at tag v1.32.0): a missing `spec.selector` comes from the pod
 * template's labels (the old versions defaulted it; apps/v1 requires it), and a Deployment's
 * `spec.rollbackTo` (gone in apps/v1) is dropped. Everything else has the same shape.
 */
import { asRecord, type ResourceType } from './kinds.js';

/** Kinds of the apps group that the old group versions carried. */
const APPS_KINDS = new Set(['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet']);

/** Group versions no longer served for APPS_KINDS (removed in Kubernetes 1.16). */
export const REMOVED_GROUP_VERSIONS = new Set(['extensions/v1beta1', 'apps/v1beta1', 'apps/v1beta2']);

/** Rewrites `object` in place to the version a cluster serves it as; returns whether it changed. */
export function convertToServedVersion(object: Record<string, unknown>): boolean {
  const apiVersion = object['apiVersion'];
  const kind = object['kind'];
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return false;
  if (!REMOVED_GROUP_VERSIONS.has(apiVersion) || !APPS_KINDS.has(kind)) return false;
  object['apiVersion'] = 'apps/v1';
  const spec = asRecord(object['spec']);
  if (object['spec'] === spec) {
    const template = asRecord(spec['template']);
    const labels = asRecord(asRecord(template['metadata'])['labels']);
    if (spec['selector'] === undefined && Object.keys(labels).length > 0) spec['selector'] = { matchLabels: { ...labels } };
    if (kind === 'Deployment') delete spec['rollbackTo'];
  }
  return true;
}

/** Whether a request names a version the cluster no longer serves for this type. */
export function isRemovedVersion(rt: ResourceType, version: string): boolean {
  return rt.group === 'apps' && APPS_KINDS.has(rt.kind) && REMOVED_GROUP_VERSIONS.has(`apps/${version}`);
}
