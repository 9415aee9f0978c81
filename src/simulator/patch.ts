/**
 * The three patch formats of the API server (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/
 * patch.go, v1.32.0): JSON patch (RFC 6902, applied by fast-json-patch; a failing operation is 422
 * with NewGenericServerResponse's text), JSON merge patch (RFC 7386) and, for built-in kinds only,
 * strategic merge patch (apimachinery pkg/util/strategicpatch) with the directives kubectl writes:
 * `$patch: replace|delete|merge`, `$setElementOrder/<list>`, `$retainKeys`,
 * `$deleteFromPrimitiveList/<list>`.
 *
 * Strategic merge knows the merge keys of the lists rollout-doctor's scenarios use, from the
 * `patchMergeKey` tags of k8s.io/api v0.32.0 (containers, env, ports, volumes, volumeMounts,
 * conditions, ownerReferences, ...); any other list is replaced whole, as for a list without a
 * patch strategy.
 */
import fastJsonPatch from 'fast-json-patch';
import { ApiError, badRequest } from './status.js';

type Json = unknown;
type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** RFC 6902, as `application/json-patch+json`. */
export function jsonPatch(target: Json, patch: Json): Json {
  if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  if (patch.length > 10000) throw new ApiError(413, `Request entity too large: The allowed maximum operations in a JSON patch is 10000, got ${patch.length}`);
  try {
    return fastJsonPatch.applyPatch(structuredClone(target), patch as fastJsonPatch.Operation[], true, false).newDocument;
  } catch {
    throw new ApiError(422, 'the server rejected our request due to an error in our request', {});
  }
}

/**
 * patchMergeKey of list fields in k8s.io/api (v0.32.0 types.go). `ports` depends on where it is:
 * a container's are keyed by containerPort, a Service's by port.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  ownerReferences: 'uid',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  secrets: 'name',
};

/** Primitive lists with patchStrategy merge (a union): metadata.finalizers. */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

function mergeKeyFor(field: string, items: unknown[]): string | undefined {
  if (field === 'ports') return items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  return MERGE_KEYS[field];
}

function sameKey(a: unknown, b: unknown, key: string): boolean {
  return isObject(a) && isObject(b) && a[key] !== undefined && a[key] === b[key];
}

function orderBy(list: unknown[], order: unknown[] | undefined, key: string | undefined): unknown[] {
  if (!order) return list;
  const position = (item: unknown): number => {
    const i = order.findIndex((o) => (key ? sameKey(o, item, key) : o === item));
    return i === -1 ? Number.MAX_SAFE_INTEGER : i;
  };
  return list
    .map((item, index) => ({ item, index }))
    .sort((a, b) => position(a.item) - position(b.item) || a.index - b.index)
    .map((x) => x.item);
}

function mergeList(field: string, original: unknown, patch: unknown[], order: unknown[] | undefined): unknown[] {
  const base = Array.isArray(original) ? original : [];
  if (patch.some((p) => isObject(p) && p['$patch'] === 'replace')) return patch.filter((p) => !(isObject(p) && p['$patch'] === 'replace')).map(stripDirectives);
  if (MERGED_PRIMITIVE_LISTS.has(field)) return orderBy([...base, ...patch.filter((p) => !base.includes(p))], order, undefined);
  const key = mergeKeyFor(field, [...base, ...patch]);
  if (!key) return patch.map(stripDirectives);
  const out = [...base];
  for (const item of patch) {
    const i = out.findIndex((o) => sameKey(o, item, key));
    if (isObject(item) && item['$patch'] === 'delete') {
      if (i !== -1) out.splice(i, 1);
      continue;
    }
    if (i === -1) out.push(stripDirectives(item));
    else out[i] = strategicMergePatch(out[i], item);
  }
  return orderBy(out, order, key);
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, value] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(value);
  return out;
}

/** apimachinery strategicpatch.StrategicMergePatch for the directives kubectl sends. */
export function strategicMergePatch(original: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  if (patch['$patch'] === 'replace') return stripDirectives(patch);
  if (patch['$patch'] === 'delete') return undefined;
  let out: JsonObject = isObject(original) ? { ...original } : {};
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) {
    const keep = new Set(retain.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const remove = Array.isArray(value) ? value : [];
      if (Array.isArray(out[field])) out[field] = (out[field] as unknown[]).filter((x) => !remove.includes(x));
      continue;
    }
    if (value === null) {
      delete out[key];
      continue;
    }
    if (Array.isArray(value)) {
      const order = patch[`$setElementOrder/${key}`];
      out[key] = mergeList(key, out[key], value, Array.isArray(order) ? order : undefined);
      continue;
    }
    const merged = isObject(value) ? strategicMergePatch(out[key], value) : value;
    if (merged === undefined) delete out[key];
    else out[key] = merged;
  }
  for (const key of Object.keys(patch)) {
    if (!key.startsWith('$setElementOrder/')) continue;
    const field = key.slice('$setElementOrder/'.length);
    if (patch[field] === undefined && Array.isArray(out[field])) {
      out[field] = orderBy(out[field] as unknown[], patch[key] as unknown[], mergeKeyFor(field, out[field] as unknown[]));
    }
  }
  return out;
}
