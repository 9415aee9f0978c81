/**
 * The simulated cluster's objects, indexed by type then namespace/name so that apply/remove stay
 * O(1) under soak tests, with each object's JSON cached so that big lists are not re-stringified
 * per request. Sorted views are rebuilt lazily, only after an insert or delete.
 */
import { asRecord, crdTarget, KindRegistry, parseApiVersion, type ResourceType } from './kinds.js';

export type KubeObject = Record<string, unknown>;

export interface Entry {
  readonly namespace: string;
  readonly name: string;
  object: KubeObject;
  /** Serialized object, computed on first use and dropped when the object is replaced. */
  json: Buffer | undefined;
}

/** Orders by namespace then name, by UTF-16 code units (deterministic, locale-free). */
export function compareKeys(ns1: string, name1: string, ns2: string, name2: string): number {
  if (ns1 !== ns2) return ns1 < ns2 ? -1 : 1;
  if (name1 !== name2) return name1 < name2 ? -1 : 1;
  return 0;
}

function compareEntries(a: Entry, b: Entry): number {
  return compareKeys(a.namespace, a.name, b.namespace, b.name);
}

export function entryJson(entry: Entry): Buffer {
  if (!entry.json) entry.json = Buffer.from(JSON.stringify(entry.object));
  return entry.json;
}

class Bucket {
  readonly byNamespace = new Map<string, Map<string, Entry>>();
  size = 0;
  private sortedAll: Entry[] | undefined;
  private readonly sortedByNamespace = new Map<string, Entry[]>();

  get(namespace: string, name: string): Entry | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  put(namespace: string, name: string, object: KubeObject): void {
    let names = this.byNamespace.get(namespace);
    if (!names) {
      names = new Map();
      this.byNamespace.set(namespace, names);
    }
    const existing = names.get(name);
    if (existing) {
      // Sorted views hold the entry itself, so a replacement needs no re-sort.
      existing.object = object;
      existing.json = undefined;
      return;
    }
    names.set(name, { namespace, name, object, json: undefined });
    this.size++;
    this.sortedAll = undefined;
    this.sortedByNamespace.delete(namespace);
  }

  delete(namespace: string, name: string): boolean {
    const names = this.byNamespace.get(namespace);
    if (!names || !names.delete(name)) return false;
    if (names.size === 0) this.byNamespace.delete(namespace);
    this.size--;
    this.sortedAll = undefined;
    this.sortedByNamespace.delete(namespace);
    return true;
  }

  sorted(namespace?: string): Entry[] {
    if (namespace === undefined) {
      if (!this.sortedAll) {
        const all: Entry[] = [];
        for (const names of this.byNamespace.values()) for (const e of names.values()) all.push(e);
        this.sortedAll = all.sort(compareEntries);
      }
      return this.sortedAll;
    }
    let list = this.sortedByNamespace.get(namespace);
    if (!list) {
      list = [...(this.byNamespace.get(namespace)?.values() ?? [])].sort(compareEntries);
      this.sortedByNamespace.set(namespace, list);
    }
    return list;
  }
}

export interface ObjectIdentity {
  rt: ResourceType;
  namespace: string;
  name: string;
}

/** Thrown for objects the store cannot hold (no apiVersion/kind/name). */
export class InvalidObjectError extends Error {}

export class ObjectStore {
  readonly registry: KindRegistry;
  private readonly buckets = new Map<ResourceType, Bucket>();
  /** CRD count per `group/plural`, so that removing a CRD can uninstall its kind. */
  private readonly crdCounts = new Map<string, number>();
  private counter = 0;

  constructor(registry = new KindRegistry()) {
    this.registry = registry;
  }

  /** The current resourceVersion of the whole store (what lists report). */
  get resourceVersion(): string {
    return String(this.counter);
  }

  private bucket(rt: ResourceType): Bucket {
    let b = this.buckets.get(rt);
    if (!b) {
      b = new Bucket();
      this.buckets.set(rt, b);
    }
    return b;
  }

  /** Moves the counter above every numeric resourceVersion among `objects`. */
  seedResourceVersion(objects: KubeObject[]): void {
    for (const o of objects) {
      const rv = asRecord(o['metadata'])['resourceVersion'];
      if (typeof rv === 'string' && /^\d{1,15}$/.test(rv)) this.counter = Math.max(this.counter, Number(rv));
    }
  }

  /**
   * Resolves an object's type and key and fills in what a real API server would: the namespace
   * (`default`) of a namespaced object without one, and a resourceVersion when missing.
   * Mutates `object` (callers pass their own copy).
   */
  normalize(object: KubeObject): ObjectIdentity {
    const apiVersion = object['apiVersion'];
    const kind = object['kind'];
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      throw new InvalidObjectError('object has no apiVersion and kind');
    }
    if (typeof object['metadata'] !== 'object' || object['metadata'] === null) object['metadata'] = {};
    const metadata = object['metadata'] as Record<string, unknown>;
    const name = metadata['name'];
    if (typeof name !== 'string' || name === '') {
      throw new InvalidObjectError(`${apiVersion} ${kind} has no metadata.name`);
    }
    const { group, version } = parseApiVersion(apiVersion);
    if (group === 'apiextensions.k8s.io' && kind === 'CustomResourceDefinition') this.registry.registerCrd(object);
    const declared = typeof metadata['namespace'] === 'string' && metadata['namespace'] !== '' ? metadata['namespace'] : undefined;
    const rt = this.registry.resolve({ group, version, kind }, declared !== undefined);
    let namespace = '';
    if (rt.namespaced) {
      namespace = declared ?? 'default';
      metadata['namespace'] = namespace;
    }
    const rv = metadata['resourceVersion'];
    const numeric = typeof rv === 'string' && /^\d{1,15}$/.test(rv) ? Number(rv) : undefined;
    if (numeric !== undefined && numeric > this.counter) this.counter = numeric;
    if (typeof rv !== 'string' || rv === '') metadata['resourceVersion'] = String(++this.counter);
    return { rt, namespace, name };
  }

  /** Adds or replaces an object; the store keeps (and may mutate) the object given. */
  put(object: KubeObject): ObjectIdentity {
    const id = this.normalize(object);
    const bucket = this.bucket(id.rt);
    const previous = bucket.get(id.namespace, id.name);
    if (previous) this.countCrd(previous.object, -1);
    bucket.put(id.namespace, id.name, object);
    this.countCrd(object, +1);
    if (previous) this.counter++;
    return id;
  }

  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean {
    const { group } = parseApiVersion(apiVersion);
    const rt = this.registry.byGroupKind(group, kind);
    if (!rt) return false;
    const ns = rt.namespaced ? namespace || 'default' : '';
    const bucket = this.buckets.get(rt);
    const previous = bucket?.get(ns, name);
    if (!bucket || !previous) return false;
    bucket.delete(ns, name);
    this.countCrd(previous.object, -1);
    this.counter++;
    return true;
  }

  private countCrd(object: KubeObject, delta: number): void {
    if (object['kind'] !== 'CustomResourceDefinition') return;
    if (parseApiVersion(String(object['apiVersion'])).group !== 'apiextensions.k8s.io') return;
    const target = crdTarget(object);
    if (!target) return;
    const key = `${target.group}/${target.plural}`;
    const next = (this.crdCounts.get(key) ?? 0) + delta;
    if (next <= 0) this.crdCounts.delete(key);
    else this.crdCounts.set(key, next);
  }

  get(rt: ResourceType, namespace: string, name: string): Entry | undefined {
    return this.buckets.get(rt)?.get(rt.namespaced ? namespace : '', name);
  }

  /** Entries sorted by namespace then name; all namespaces when `namespace` is undefined. */
  list(rt: ResourceType, namespace?: string): Entry[] {
    const bucket = this.buckets.get(rt);
    if (!bucket) return [];
    return bucket.sorted(rt.namespaced ? namespace : undefined);
  }

  count(rt: ResourceType): number {
    return this.buckets.get(rt)?.size ?? 0;
  }

  /**
   * Whether the API serves this type now: built-ins always; a custom kind once its CRD or an
   * object of it (or of a kind installed with it) is in the store.
   */
  isServed(rt: ResourceType): boolean {
    if (rt.isInternal) return false;
    if (rt.isBuiltin) return true;
    for (const member of this.registry.installationOf(rt)) {
      if (this.count(member) > 0 || this.crdCounts.has(`${member.group}/${member.plural}`)) return true;
    }
    return false;
  }

  /** Types matching `Kind`, `plural` or `plural.group` (every group when ambiguous). */
  typesMatching(query: string): ResourceType[] {
    return this.registry.all().filter((rt) => {
      if (rt.kind === query || rt.plural === query) return true;
      if (rt.group !== '' && (query === `${rt.plural}.${rt.group}` || query === `${rt.kind}.${rt.group}`)) return true;
      return false;
    });
  }

  /** Deep copies of every stored object of the matching types, sorted by namespace then name. */
  objects(query: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const rt of this.typesMatching(query)) for (const e of this.list(rt)) out.push(structuredClone(e.object));
    return out;
  }

  /** A built-in RBAC type, for the authorizer's lookups. */
  rbac(kind: 'Role' | 'RoleBinding' | 'ClusterRole' | 'ClusterRoleBinding'): ResourceType {
    const rt = this.registry.byGroupKind('rbac.authorization.k8s.io', kind);
    if (!rt) throw new Error(`built-in ${kind} missing from the kind table`);
    return rt;
  }
}

