/**
 * Writes as kube-apiserver v1.32 makes them (staging/src/k8s.io/apiserver/pkg/endpoints/handlers
 * create.go, update.go, patch.go, delete.go and pkg/registry/generic/registry/store.go at v1.32.0):
 *
 * - POST creates (201): uid, creationTimestamp, resourceVersion and generation 1 are set by the
 *   server; an existing name is 409 AlreadyExists; a namespaced object needs its namespace to exist
 *   (the NamespaceLifecycle admission plugin: 404 `namespaces "x" not found`).
 * - PUT replaces (200): a stale `metadata.resourceVersion` is 409 Conflict with the optimistic-lock
 *   message; uid and creationTimestamp cannot change.
 * - PATCH (200) in the three formats of patch.ts; the patched object is then written like a PUT.
 * - DELETE (200) answers the deleted object for kinds that return it, else a Success Status;
 *   `preconditions` in the DeleteOptions body are checked (409 on a mismatch).
 * - Every write takes the store's next revision as its resourceVersion. `metadata.generation`
 *   moves by one when anything but metadata (and status, for kinds with a status subresource)
 *   changes; the main resource cannot change status and `/status` changes nothing else.
 * - `/scale` (Deployments, ReplicaSets, StatefulSets, and custom kinds whose CRD declares the scale
 *   subresource, like Argo Rollouts) reads and writes an autoscaling/v1 Scale.
 * - `dryRun=All` validates and answers without storing.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { asRecord, parseApiVersion, type ResourceType } from './kinds.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { JSON_TYPE, mediaType, type Reply } from './reply.js';
import { jsonPathValue } from './tables.js';
import { alreadyExists, ApiError, badRequest, conflict, invalid, notFound, type StatusBody } from './status.js';
import type { KubeObject, ObjectStore } from './store.js';

/** Built-in kinds that track metadata.generation (their strategies set and bump it). */
const GENERATION_KINDS = new Set([
  'apps/deployments',
  'apps/replicasets',
  'apps/statefulsets',
  'apps/daemonsets',
  'batch/jobs',
  'batch/cronjobs',
  'autoscaling/horizontalpodautoscalers',
  'policy/poddisruptionbudgets',
  'networking.k8s.io/ingresses',
  'networking.k8s.io/networkpolicies',
  'apiextensions.k8s.io/customresourcedefinitions',
]);

/** Built-in kinds with a status subresource. */
const STATUS_KINDS = new Set([
  ...GENERATION_KINDS,
  '/pods',
  '/services',
  '/namespaces',
  '/nodes',
  '/persistentvolumeclaims',
  '/persistentvolumes',
  '/replicationcontrollers',
  '/resourcequotas',
]);

/** Built-in kinds whose DELETE answers the object rather than a Status (ReturnDeletedObject). */
const RETURNS_DELETED = new Set(['/pods', '/services', '/namespaces']);

/** Built-in kinds with a scale subresource, and how their Scale reads them. */
const BUILTIN_SCALE = new Set(['apps/deployments', 'apps/replicasets', 'apps/statefulsets', '/replicationcontrollers']);

export interface WriteContext {
  store: ObjectStore;
  now: () => number;
  /** Whether namespaced objects need their Namespace object (NamespaceLifecycle). */
  requireNamespaces: boolean;
}

function key(rt: ResourceType): string {
  return `${rt.group}/${rt.plural}`;
}

function crdVersion(store: ObjectStore, rt: ResourceType, version: string): Record<string, unknown> | undefined {
  const crd = store.crdOf(rt);
  return Array.isArray(asRecord(crd?.['spec'])['versions'])
    ? ((asRecord(crd?.['spec'])['versions'] as unknown[]).map(asRecord).find((v) => v['name'] === version) as Record<string, unknown> | undefined)
    : undefined;
}

export function hasStatusSubresource(store: ObjectStore, rt: ResourceType, version: string): boolean {
  if (rt.isBuiltin) return STATUS_KINDS.has(key(rt));
  return asRecord(crdVersion(store, rt, version)?.['subresources'])['status'] !== undefined;
}

function tracksGeneration(rt: ResourceType): boolean {
  return !rt.isBuiltin || GENERATION_KINDS.has(key(rt));
}

function scaleSpec(store: ObjectStore, rt: ResourceType, version: string): { specPath: string; statusPath: string; selectorPath: string } | undefined {
  if (rt.isBuiltin) return BUILTIN_SCALE.has(key(rt)) ? { specPath: '.spec.replicas', statusPath: '.status.replicas', selectorPath: '' } : undefined;
  const scale = asRecord(crdVersion(store, rt, version)?.['subresources'])['scale'];
  if (scale === undefined) return undefined;
  const s = asRecord(scale);
  return { specPath: String(s['specReplicasPath'] ?? '.spec.replicas'), statusPath: String(s['statusReplicasPath'] ?? '.status.replicas'), selectorPath: String(s['labelSelectorPath'] ?? '') };
}

/** metav1.FormatLabelSelector. */
function formatSelector(selector: unknown): string {
  const s = asRecord(selector);
  const parts: string[] = [];
  const labels = asRecord(s['matchLabels']);
  for (const k of Object.keys(labels).sort()) parts.push(`${k}=${String(labels[k])}`);
  for (const r of Array.isArray(s['matchExpressions']) ? (s['matchExpressions'] as unknown[]).map(asRecord) : []) {
    const values = Array.isArray(r['values']) ? (r['values'] as string[]).join(',') : '';
    if (r['operator'] === 'In') parts.push(`${String(r['key'])} in (${values})`);
    else if (r['operator'] === 'NotIn') parts.push(`${String(r['key'])} notin (${values})`);
    else if (r['operator'] === 'Exists') parts.push(String(r['key']));
    else if (r['operator'] === 'DoesNotExist') parts.push(`!${String(r['key'])}`);
  }
  return parts.length === 0 ? '' : parts.join(',');
}

/** Decodes a request body (JSON or YAML); protobuf and anything else: 415. */
export function decodeBody(contentType: string | undefined, body: Buffer): unknown {
  const type = mediaType(contentType);
  if (type === 'application/json' || type === '') {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw badRequest(`the object provided is unrecognized: ${(err as Error).message}`);
    }
  }
  if (type === 'application/yaml') {
    try {
      return parseYaml(body.toString('utf8'));
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
  }
  throw new ApiError(415, 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml', undefined, 'UnsupportedMediaType');
}

function setPath(object: KubeObject, path: string, value: unknown): void {
  const parts = path.split('.').filter(Boolean);
  let current = object;
  for (const p of parts.slice(0, -1)) {
    if (typeof current[p] !== 'object' || current[p] === null) current[p] = {};
    current = current[p] as KubeObject;
  }
  current[parts.at(-1) as string] = value;
}

function metadataOf(o: KubeObject): Record<string, unknown> {
  if (typeof o['metadata'] !== 'object' || o['metadata'] === null || Array.isArray(o['metadata'])) o['metadata'] = {};
  return o['metadata'] as Record<string, unknown>;
}

function withoutMeta(o: KubeObject, dropStatus: boolean): KubeObject {
  const { metadata: _metadata, status, ...rest } = o;
  return dropStatus ? rest : { ...rest, status };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class Writer {
  constructor(private readonly ctx: WriteContext) {}

  private checkNamespace(rt: ResourceType, namespace: string): void {
    if (!rt.namespaced || !this.ctx.requireNamespaces) return;
    const namespaces = this.ctx.store.registry.byGroupKind('', 'Namespace') as ResourceType;
    if (!this.ctx.store.get(namespaces, '', namespace)) throw notFound('namespaces', '', namespace);
  }

  /** The body as an object of this type: apiVersion/kind defaulted, mismatches rejected (400). */
  private typed(rt: ResourceType, version: string, body: unknown): KubeObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(`the object provided is unrecognized (must be of type ${rt.kind})`);
    const o = structuredClone(body) as KubeObject;
    const apiVersion = rt.group === '' ? version : `${rt.group}/${version}`;
    o['apiVersion'] ??= apiVersion;
    o['kind'] ??= rt.kind;
    const gv = parseApiVersion(String(o['apiVersion']));
    if (o['kind'] !== rt.kind || gv.group !== rt.group) {
      throw badRequest(`the API version in the data (${String(o['apiVersion'])}) does not match the expected API version (${apiVersion})`);
    }
    o['apiVersion'] = apiVersion;
    return o;
  }

  create(rt: ResourceType, version: string, namespace: string | undefined, body: unknown, dryRun: boolean): KubeObject {
    const o = this.typed(rt, version, body);
    const meta = metadataOf(o);
    if (rt.namespaced) {
      if (meta['namespace'] !== undefined && meta['namespace'] !== '' && meta['namespace'] !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta['namespace'] = namespace;
    } else delete meta['namespace'];
    if ((typeof meta['name'] !== 'string' || meta['name'] === '') && typeof meta['generateName'] === 'string' && meta['generateName'] !== '') {
      meta['name'] = `${meta['generateName'] as string}${randomUUID().replace(/-/g, '').slice(0, 5)}`;
    }
    const name = meta['name'];
    if (typeof name !== 'string' || name === '') {
      throw invalid(rt.kind, rt.group, '', [{ type: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    }
    this.checkNamespace(rt, namespace ?? '');
    if (this.ctx.store.get(rt, namespace ?? '', name)) throw alreadyExists(rt.plural, rt.group, name);
    if (meta['resourceVersion'] !== undefined && meta['resourceVersion'] !== '') {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    meta['uid'] = randomUUID();
    meta['creationTimestamp'] = new Date(Math.floor(this.ctx.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    if (tracksGeneration(rt)) meta['generation'] = 1;
    else delete meta['generation'];
    if (dryRun) return o;
    return this.ctx.store.write(o).entry.object;
  }

  /** The stored object (404 when missing). */
  private current(rt: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const entry = this.ctx.store.get(rt, namespace ?? '', name);
    if (!entry) throw notFound(rt.plural, rt.group, name);
    return entry.object;
  }

  /**
   * Replaces the object with `next` as update.go does: resourceVersion precondition, immutable
   * metadata kept, status or the rest kept depending on `subresource`, generation bumped.
   */
  update(rt: ResourceType, version: string, namespace: string | undefined, name: string, body: unknown, subresource: string | undefined, dryRun: boolean): KubeObject {
    const old = this.current(rt, namespace, name);
    const next = this.typed(rt, version, body);
    const meta = metadataOf(next);
    if (meta['name'] !== undefined && meta['name'] !== name) {
      throw badRequest(`the name of the object (${String(meta['name'])}) does not match the name on the URL (${name})`);
    }
    if (rt.namespaced && meta['namespace'] !== undefined && meta['namespace'] !== '' && meta['namespace'] !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const oldMeta = asRecord(old['metadata']);
    const rv = meta['resourceVersion'];
    if (typeof rv === 'string' && rv !== '' && rv !== oldMeta['resourceVersion']) throw conflict(rt.plural, rt.group, name);
    const statusSub = hasStatusSubresource(this.ctx.store, rt, version);
    let result: KubeObject;
    if (subresource === 'status') {
      // Only status changes through /status.
      result = { ...structuredClone(old), status: next['status'] };
      if (next['status'] === undefined) delete result['status'];
    } else {
      result = next;
      if (statusSub) {
        if (old['status'] === undefined) delete result['status'];
        else result['status'] = structuredClone(old['status']);
      }
      const resultMeta = metadataOf(result);
      // What the server owns.
      for (const field of ['uid', 'creationTimestamp', 'generation', 'deletionTimestamp']) {
        if (oldMeta[field] === undefined) delete resultMeta[field];
        else resultMeta[field] = oldMeta[field];
      }
      resultMeta['name'] = name;
      if (rt.namespaced) resultMeta['namespace'] = namespace;
      if (tracksGeneration(rt) && !sameJson(withoutMeta(old, statusSub), withoutMeta(result, statusSub))) {
        resultMeta['generation'] = (typeof oldMeta['generation'] === 'number' ? oldMeta['generation'] : 0) + 1;
      }
    }
    if (dryRun) return result;
    return this.ctx.store.write(result).entry.object;
  }

  patch(rt: ResourceType, version: string, namespace: string | undefined, name: string, contentType: string | undefined, body: Buffer, subresource: string | undefined, dryRun: boolean): KubeObject {
    const old = this.current(rt, namespace, name);
    const patched = applyPatch(rt, contentType, body, structuredClone(old));
    const meta = asRecord(asRecord(patched)['metadata']);
    // A patch that does not name a resourceVersion applies to the current one.
    if (meta['resourceVersion'] === undefined) meta['resourceVersion'] = asRecord(old['metadata'])['resourceVersion'];
    return this.update(rt, version, namespace, name, patched, subresource, dryRun);
  }

  delete(rt: ResourceType, namespace: string | undefined, name: string, body: Buffer, contentType: string | undefined, dryRun: boolean): KubeObject | StatusBody {
    const old = this.current(rt, namespace, name);
    const options = body.length > 0 ? asRecord(decodeBody(contentType, body)) : {};
    const preconditions = asRecord(options['preconditions']);
    const oldMeta = asRecord(old['metadata']);
    if (preconditions['uid'] !== undefined && preconditions['uid'] !== oldMeta['uid']) {
      throw new ApiError(
        409,
        `Operation cannot be fulfilled on ${rt.group === '' ? rt.plural : `${rt.plural}.${rt.group}`} "${name}": Precondition failed: UID in precondition: ${String(preconditions['uid'])}, UID in object meta: ${String(oldMeta['uid'] ?? '')}`,
        { name, ...(rt.group ? { group: rt.group } : {}), kind: rt.plural },
      );
    }
    if (preconditions['resourceVersion'] !== undefined && preconditions['resourceVersion'] !== oldMeta['resourceVersion']) {
      throw new ApiError(
        409,
        `Operation cannot be fulfilled on ${rt.group === '' ? rt.plural : `${rt.plural}.${rt.group}`} "${name}": Precondition failed: ResourceVersion in precondition: ${String(preconditions['resourceVersion'])}, ResourceVersion in meta: ${String(oldMeta['resourceVersion'] ?? '')}`,
        { name, ...(rt.group ? { group: rt.group } : {}), kind: rt.plural },
      );
    }
    const deleted = dryRun ? old : (this.ctx.store.delete(rt, namespace ?? '', name)?.object ?? old);
    if (!rt.isBuiltin || RETURNS_DELETED.has(key(rt))) return deleted;
    const details: Record<string, unknown> = { name };
    if (rt.group) details['group'] = rt.group;
    details['kind'] = rt.plural;
    if (oldMeta['uid'] !== undefined) details['uid'] = oldMeta['uid'];
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 } as unknown as StatusBody;
  }

  hasScale(rt: ResourceType, version: string): boolean {
    return scaleSpec(this.ctx.store, rt, version) !== undefined;
  }

  /** The autoscaling/v1 Scale of an object, or 404 when the kind has no scale subresource. */
  scale(rt: ResourceType, version: string, namespace: string | undefined, name: string): KubeObject {
    const spec = scaleSpec(this.ctx.store, rt, version);
    if (!spec) throw notFound(`${rt.plural}/scale`, rt.group, name);
    const o = this.current(rt, namespace, name);
    const meta = asRecord(o['metadata']);
    const selector = spec.selectorPath === '' ? formatSelector(asRecord(o['spec'])['selector']) : jsonPathValue(o, spec.selectorPath);
    const status: Record<string, unknown> = { replicas: Number(jsonPathValue(o, spec.statusPath) ?? 0) };
    if (typeof selector === 'string' && selector !== '') status['selector'] = selector;
    const scaleMeta: Record<string, unknown> = { name, namespace: meta['namespace'], uid: meta['uid'], resourceVersion: meta['resourceVersion'], creationTimestamp: meta['creationTimestamp'] };
    for (const k of Object.keys(scaleMeta)) if (scaleMeta[k] === undefined) delete scaleMeta[k];
    return { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: scaleMeta, spec: { replicas: Number(jsonPathValue(o, spec.specPath) ?? 0) }, status };
  }

  /** PUT or PATCH of `/scale`: the new spec.replicas written into the object. */
  writeScale(rt: ResourceType, version: string, namespace: string | undefined, name: string, next: unknown, dryRun: boolean): KubeObject {
    const spec = scaleSpec(this.ctx.store, rt, version) as { specPath: string };
    const current = this.scale(rt, version, namespace, name);
    const scale = asRecord(next);
    const replicas = asRecord(scale['spec'])['replicas'];
    const rv = asRecord(scale['metadata'])['resourceVersion'];
    if (typeof rv === 'string' && rv !== '' && rv !== asRecord(current['metadata'])['resourceVersion']) throw conflict(rt.plural, rt.group, name);
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid('Scale', 'autoscaling', name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0` }]);
    }
    const o = structuredClone(this.current(rt, namespace, name));
    setPath(o, spec.specPath, replicas);
    this.update(rt, version, namespace, name, o, undefined, dryRun);
    return dryRun ? { ...current, spec: { replicas } } : this.scale(rt, version, namespace, name);
  }
}

/** Applies a PATCH body of the given Content-Type to `target`; 415 for a format the kind does not take. */
export function applyPatch(rt: ResourceType, contentType: string | undefined, body: Buffer, target: KubeObject): KubeObject {
  const type = mediaType(contentType);
  const accepted = ['application/json-patch+json', 'application/merge-patch+json', ...(rt.isBuiltin ? ['application/strategic-merge-patch+json'] : [])];
  if (!accepted.includes(type)) {
    throw new ApiError(415, `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`, undefined, 'UnsupportedMediaType');
  }
  let patch: unknown;
  try {
    patch = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  let result: unknown;
  if (type === 'application/json-patch+json') result = jsonPatch(target, patch);
  else if (type === 'application/merge-patch+json') result = mergePatch(target, patch);
  else result = strategicMergePatch(target, patch);
  if (typeof result !== 'object' || result === null || Array.isArray(result)) throw badRequest('the patched object is not an object');
  return result as KubeObject;
}


/** Sends a write's answer. */
export function sendObject(reply: Reply, code: number, object: unknown): void {
  reply.send(code, JSON_TYPE, JSON.stringify(object));
}
