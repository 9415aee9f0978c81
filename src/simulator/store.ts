/**
 * The simulated cluster's objects, as etcd and the watch cache hold them for the API server: one
 * revision counter for the whole store (every write takes the next resourceVersion), objects indexed
 * by type then namespace/name so that writes stay O(1) under soak tests, each version of an object
 * an immutable entry (with its JSON cached, so big lists are not re-stringified per request), and
 * the recent changes of each type kept for watches.
 *
 * Sorted views are shared with paginated lists still reading them (a list's later pages come from
 * the snapshot its first page was taken from, as etcd serves them at the first page's revision), so
 * a write never mutates a view: it builds the next one.
 */
import { asRecord, crdTarget, KindRegistry, parseApiVersion, type ResourceType } from './kinds.js';
import { convertToServedVersion } from './conversion.js';

export type KubeObject = Record<string, unknown>;

export interface Entry {
  readonly namespace: string;
  readonly name: string;
  readonly object: KubeObject;
  /** Serialized object, computed on first use. */
  json: Buffer | undefined;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  rt: ResourceType;
  /** The revision of the write (for DELETED, the object carries it as its resourceVersion). */
  rv: number;
  entry: Entry;
  /** The object before the write (MODIFIED, DELETED): a watch with a selector needs both. */
  previous: Entry | undefined;
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

function makeEntry(namespace: string, name: string, object: KubeObject): Entry {
  return { namespace, name, object, json: undefined };
}

/** First index in `entries` whose key is not below (namespace, name). */
export function lowerBound(entries: readonly Entry[], namespace: string, name: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = entries[mid] as Entry;
    if (compareKeys(e.namespace, e.name, namespace, name) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class Bucket {
  readonly byNamespace = new Map<string, Map<string, Entry>>();
  size = 0;
  private sortedAll: Entry[] | undefined;
  private readonly sortedByNamespace = new Map<string, Entry[]>();

  get(namespace: string, name: string): Entry | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  /** Stores `entry` (new or replacing); returns the entry it replaced. */
  set(entry: Entry): Entry | undefined {
    let names = this.byNamespace.get(entry.namespace);
    if (!names) {
      names = new Map();
      this.byNamespace.set(entry.namespace, names);
    }
    const existing = names.get(entry.name);
    names.set(entry.name, entry);
    if (existing) {
      // Views may be held by paginated lists: the next view is a copy with the entry replaced.
      this.sortedAll = this.sortedAll && replaced(this.sortedAll, entry);
      const inNamespace = this.sortedByNamespace.get(entry.namespace);
      if (inNamespace) this.sortedByNamespace.set(entry.namespace, replaced(inNamespace, entry));
      return existing;
    }
    this.size++;
    this.sortedAll = undefined;
    this.sortedByNamespace.delete(entry.namespace);
    return undefined;
  }

  delete(namespace: string, name: string): Entry | undefined {
    const names = this.byNamespace.get(namespace);
    const existing = names?.get(name);
    if (!names || !existing) return undefined;
    names.delete(name);
    if (names.size === 0) this.byNamespace.delete(namespace);
    this.size--;
    this.sortedAll = undefined;
    this.sortedByNamespace.delete(namespace);
    return existing;
  }

  sorted(namespace?: string): readonly Entry[] {
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

function replaced(view: Entry[], entry: Entry): Entry[] {
  const i = lowerBound(view, entry.namespace, entry.name);
  const next = view.slice();
  next[i] = entry;
  return next;
}

export interface ObjectIdentity {
  rt: ResourceType;
  namespace: string;
  name: string;
}

/** Thrown for objects the store cannot hold (no apiVersion/kind/name). */
export class InvalidObjectError extends Error {}

/** Changes of one type kept for watches (a real watch cache keeps a window of them too). */
class History {
  readonly events: StoreEvent[] = [];
  /** Events before this revision are gone: a watch from an older resourceVersion gets 410. */
  oldestAvailable: number;

  constructor(startRv: number) {
    this.oldestAvailable = startRv;
  }
}

/** Per type; etcd compaction and the watch cache's capacity make old revisions unavailable in a real cluster too. */
const HISTORY_CAPACITY = 1000;

export type StoreListener = (event: StoreEvent) => void;

export class ObjectStore {
  readonly registry: KindRegistry;
  private readonly buckets = new Map<ResourceType, Bucket>();
  /** CRD count per `group/plural`, so that removing a CRD can uninstall its kind. */
  private readonly crdCounts = new Map<string, number>();
  private readonly histories = new Map<ResourceType, History>();
  private readonly listeners = new Set<StoreListener>();
  private counter = 0;
  /** Watches can start from this revision for types whose history was never trimmed. */
  private watchFloor = 0;
  /** Revisions below this were compacted: lists and continue tokens asking for them get 410. */
  private compactedRv = 0;

  constructor(registry = new KindRegistry()) {
    this.registry = registry;
  }

  /** The current resourceVersion of the whole store (what lists report). */
  get resourceVersion(): string {
    return String(this.counter);
  }

  get revision(): number {
    return this.counter;
  }

  get compactedRevision(): number {
    return this.compactedRv;
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
   * Resolves an object's type and key and fills in what a real API server would: the served version
   * of an old one (extensions/v1beta1 -> apps/v1), the namespace (`default`) of a namespaced object
   * without one, and a resourceVersion when missing. Mutates `object` (callers pass their own copy).
   */
  normalize(object: KubeObject): ObjectIdentity {
    convertToServedVersion(object);
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

  /**
   * Loads an object as the scenario wrote it (its resourceVersion kept when it has one): what a
   * cluster already held before anyone watched. The store keeps (and may mutate) the object given.
   */
  put(object: KubeObject): ObjectIdentity {
    const id = this.normalize(object);
    const previous = this.bucket(id.rt).set(makeEntry(id.namespace, id.name, object));
    this.afterWrite(id.rt, previous?.object, object);
    if (previous) this.counter++;
    return id;
  }

  /**
   * A write at run time (the API's writes, a test's apply): the object takes the next revision as
   * its resourceVersion and watchers see ADDED or MODIFIED. The store keeps the object given.
   */
  write(object: KubeObject): { id: ObjectIdentity; entry: Entry; previous: Entry | undefined } {
    const metadata = object['metadata'];
    if (typeof metadata === 'object' && metadata !== null) delete (metadata as Record<string, unknown>)['resourceVersion'];
    // normalize gives an object without a resourceVersion the next revision.
    const id = this.normalize(object);
    const rv = this.counter;
    const entry = makeEntry(id.namespace, id.name, object);
    const previous = this.bucket(id.rt).set(entry);
    this.afterWrite(id.rt, previous?.object, object);
    this.emit({ type: previous ? 'MODIFIED' : 'ADDED', rt: id.rt, rv, entry, previous });
    return { id, entry, previous };
  }

  /** Deletes at run time; watchers see DELETED with the deletion's revision. */
  delete(rt: ResourceType, namespace: string, name: string): Entry | undefined {
    const bucket = this.buckets.get(rt);
    const previous = bucket?.delete(rt.namespaced ? namespace : '', name);
    if (!previous) return undefined;
    this.countCrd(previous.object, -1);
    const rv = ++this.counter;
    const object = structuredClone(previous.object);
    (object['metadata'] as Record<string, unknown>)['resourceVersion'] = String(rv);
    const entry = makeEntry(previous.namespace, previous.name, object);
    this.emit({ type: 'DELETED', rt, rv, entry, previous });
    return entry;
  }

  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean {
    const { group } = parseApiVersion(apiVersion);
    const rt = this.registry.byGroupKind(group, kind);
    if (!rt) return false;
    return this.delete(rt, rt.namespaced ? namespace || 'default' : '', name) !== undefined;
  }

  private afterWrite(rt: ResourceType, previous: KubeObject | undefined, object: KubeObject): void {
    if (previous) this.countCrd(previous, -1);
    this.countCrd(object, +1);
    if (rt.group === 'apiextensions.k8s.io' && rt.kind === 'CustomResourceDefinition') this.registry.registerCrd(object);
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

  private history(rt: ResourceType): History {
    let h = this.histories.get(rt);
    if (!h) {
      h = new History(this.watchFloor + 1);
      this.histories.set(rt, h);
    }
    return h;
  }

  private emit(event: StoreEvent): void {
    const h = this.history(event.rt);
    h.events.push(event);
    if (h.events.length > HISTORY_CAPACITY) {
      const dropped = h.events.splice(0, h.events.length - HISTORY_CAPACITY);
      h.oldestAvailable = (dropped.at(-1) as StoreEvent).rv + 1;
    }
    for (const listener of this.listeners) listener(event);
  }

  /**
   * The events of a type after `rv`, or undefined when some of them are no longer kept (the
   * watch then gets 410 Expired). The oldest revision a watch can start from is also returned.
   */
  eventsSince(rt: ResourceType, rv: number): { events: StoreEvent[]; oldest: number } | { events: undefined; oldest: number } {
    const h = this.history(rt);
    if (rv < h.oldestAvailable - 1) return { events: undefined, oldest: h.oldestAvailable };
    return { events: h.events.filter((e) => e.rv > rv), oldest: h.oldestAvailable };
  }

  /**
   * Forgets every change up to now, as etcd compaction does: continue tokens and exact lists from
   * before, and watches from an older resourceVersion, answer 410 Expired.
   */
  compact(): void {
    this.compactedRv = this.counter;
    this.markLoaded();
  }

  /** The objects loaded so far were there before any watch: watches start at the current revision. */
  markLoaded(): void {
    this.watchFloor = this.counter;
    for (const h of this.histories.values()) {
      h.events.length = 0;
      h.oldestAvailable = this.counter + 1;
    }
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(rt: ResourceType, namespace: string, name: string): Entry | undefined {
    return this.buckets.get(rt)?.get(rt.namespaced ? namespace : '', name);
  }

  /** Entries sorted by namespace then name; all namespaces when `namespace` is undefined. The view is never mutated. */
  list(rt: ResourceType, namespace?: string): readonly Entry[] {
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

  /** The CRD object that defines a type, when the scenario holds it. */
  crdOf(rt: ResourceType): KubeObject | undefined {
    const crds = this.registry.byGroupKind('apiextensions.k8s.io', 'CustomResourceDefinition');
    if (!crds || rt.isBuiltin) return undefined;
    return this.get(crds, '', `${rt.plural}.${rt.group}`)?.object;
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
