/**
 * LIST as kube-apiserver v1.32 answers it (staging/src/k8s.io/apiserver at v1.32.0):
 *
 * - `resourceVersion=0` is served from the watch cache, which ignores `limit` and answers every item
 *   at once, without `continue` (pkg/storage/cacher/cacher.go computeListLimit).
 * - No resourceVersion is a consistent read that honours `limit`; its later pages (`continue`) come
 *   from the snapshot the first page was taken from, as etcd serves them at that revision
 *   (pkg/storage/etcd3/store.go GetList). A token whose revision was compacted answers 410 Expired
 *   with the real message and a fresh token (pkg/storage/etcd3/errors.go).
 * - `continue` with a resourceVersion other than 0: 400 "specifying resource version is not allowed
 *   when using continue" (etcd3/store.go resolveGetListRev); a malformed token: 400 "invalid continue
 *   token: ..." (pkg/storage/continue.go DecodeContinue).
 * - ListOptions are validated first: `resourceVersionMatch` without `resourceVersion` is 422 Invalid
 *   (apimachinery pkg/apis/meta/internalversion/validation/validation.go ValidateListOptions,
 *   reported by pkg/endpoints/handlers/get.go ListResource).
 * - An exact resourceVersion older than the store's current one is gone (the simulator keeps no
 *   old revisions): 410 "The resourceVersion for the provided list is too old."; a newer one than
 *   exists: 504 "Too large resource version" (pkg/storage/errors.go).
 *
 * With `shuffle`, the items of each answer come in random order (a client must not depend on the
 * order a cache or a proxy happens to give).
 */
import { asRecord, type ResourceType } from './kinds.js';
import { JSON_TYPE, type Reply } from './reply.js';
import { compileFieldSelector, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError, type LabelRequirement } from './selectors.js';
import { ApiError, badRequest, invalid } from './status.js';
import { entryJson, lowerBound, type Entry, type KubeObject, type ObjectStore } from './store.js';
import { tableFor, type TableContext } from './tables.js';

/** Lists bigger than this are written in batches of about this size. */
const LIST_BATCH_BYTES = 256 * 1024;
const COMMA = Buffer.from(',');

/** How long a paginated list's snapshot is kept (etcd's default compaction interval is 5 minutes). */
const SNAPSHOT_TTL_MS = 5 * 60 * 1000;
/** Snapshots kept at once; the oldest goes first (then its tokens answer 410, as after a compaction). */
const MAX_SNAPSHOTS = 64;

// Messages of staging/src/k8s.io/apiserver/pkg/storage/etcd3/errors.go, v1.32.0.
export const LIST_EXPIRED = 'The resourceVersion for the provided list is too old.';
export const INCONSISTENT_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

export interface ListSelection {
  labels: LabelRequirement[];
  fields: ((o: KubeObject) => boolean) | undefined;
}

/** Label and field selectors with the API server's grammar; a bad one is 400. */
export function parseSelection(rt: ResourceType, params: URLSearchParams): ListSelection {
  try {
    return {
      labels: parseLabelSelector(params.get('labelSelector') ?? ''),
      fields: compileFieldSelector(rt.group, rt.plural, parseFieldSelector(params.get('fieldSelector') ?? '')),
    };
  } catch (err) {
    if (err instanceof SelectorError) throw badRequest(err.message);
    throw err;
  }
}

export function isSelected(selection: ListSelection, object: KubeObject): boolean {
  if (selection.labels.length > 0 && !matchesLabels(selection.labels, asRecord(asRecord(object['metadata'])['labels']))) return false;
  return selection.fields === undefined || selection.fields(object);
}

export function parseIntParam(params: URLSearchParams, name: string, min: number): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min) throw new ApiError(422, `${name}: Invalid value: ${n}: must be greater than${min === 0 ? ' or equal to' : ''} ${min === 0 ? 0 : min - 1}`);
  return n;
}

export function isTrue(params: URLSearchParams, name: string): boolean {
  const v = params.get(name);
  return v === 'true' || v === '1';
}

/**
 * The store's revision a resourceVersion parameter names. A malformed one fails in the storage
 * layer's parser (pkg/storage/api_object_versioner.go) and reaches the client as a 500.
 */
export function parseResourceVersion(raw: string): number {
  if (!/^\d+$/.test(raw) || raw.length > 15) {
    throw new ApiError(500, `Internal error occurred: resourceVersion: Invalid value: ${JSON.stringify(raw)}: strconv.ParseUint: parsing ${JSON.stringify(raw)}: invalid syntax`);
  }
  return Number(raw);
}

interface ContinueToken {
  rv: number;
  /** Key after which the page starts: `<namespace>/<name>` for cluster-wide lists of namespaced kinds, else `<name>`. */
  start: string;
}

/**
 * Continue tokens as etcd3 writes them (pkg/storage/continue.go EncodeContinue): base64url without
 * padding of {"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key after the prefix>\u0000"}.
 */
export function encodeContinue(rv: number, key: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${key}\u0000` })).toString('base64url');
}

/** DecodeContinue's rules and texts, each wrapped as store.go does: `invalid continue token: <why>`. */
export function decodeContinue(token: string): ContinueToken {
  const invalidToken = (why: string): ApiError => badRequest(`invalid continue token: ${why}`);
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]*$/.test(token)) throw new Error('illegal base64 data');
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (err) {
    throw invalidToken(`continue key is not valid: ${(err as Error).message}`);
  }
  const t = asRecord(parsed);
  if (t['v'] !== 'meta.k8s.io/v1') throw invalidToken(`continue key is not valid: server does not recognize this encoded version ${String(t['v'] ?? '')}`);
  const rv = typeof t['rv'] === 'number' ? t['rv'] : 0;
  if (rv === 0) throw invalidToken('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  const start = typeof t['start'] === 'string' ? t['start'] : '';
  if (start === '') throw invalidToken('continue key is not valid: encoded start key empty (version meta.k8s.io/v1)');
  const key = start.endsWith('\u0000') ? start.slice(0, -1) : start;
  if (key.split('/').some((part) => part === '..' || part === '.')) throw invalidToken(`continue key is not valid: ${start}`);
  return { rv, start: key };
}

interface Snapshot {
  view: readonly Entry[];
  takenAt: number;
}

/** The views paginated lists are still reading, by type, scope and revision. */
export class ListSnapshots {
  private readonly kept = new Map<string, Snapshot>();

  constructor(private readonly now: () => number = Date.now) {}

  private key(rt: ResourceType, namespace: string | undefined, rv: number): string {
    return `${rt.group}/${rt.plural}|${namespace ?? '*'}|${rv}`;
  }

  keep(rt: ResourceType, namespace: string | undefined, rv: number, view: readonly Entry[]): void {
    this.expire();
    const key = this.key(rt, namespace, rv);
    if (!this.kept.has(key) && this.kept.size >= MAX_SNAPSHOTS) this.kept.delete(this.kept.keys().next().value as string);
    this.kept.set(key, { view, takenAt: this.now() });
  }

  find(rt: ResourceType, namespace: string | undefined, rv: number): readonly Entry[] | undefined {
    this.expire();
    return this.kept.get(this.key(rt, namespace, rv))?.view;
  }

  clear(): void {
    this.kept.clear();
  }

  private expire(): void {
    const cutoff = this.now() - SNAPSHOT_TTL_MS;
    for (const [key, s] of this.kept) if (s.takenAt < cutoff) this.kept.delete(key);
  }
}

export interface ListContext {
  store: ObjectStore;
  snapshots: ListSnapshots;
  /** kube-apiserver --watch-cache (default true): false serves resourceVersion=0 from etcd, paged. */
  watchCache: boolean;
  shuffle: (() => number) | undefined;
  table: TableContext | undefined;
}

function validateListOptions(params: URLSearchParams): void {
  const causes: { field: string; message: string; type: string }[] = [];
  const rv = params.get('resourceVersion') ?? '';
  const match = params.get('resourceVersionMatch') ?? '';
  const cont = params.get('continue') ?? '';
  if (match !== '') {
    if (rv === '') causes.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided' });
    if (cont !== '') causes.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden when continue is provided' });
    if (match !== 'Exact' && match !== 'NotOlderThan') {
      causes.push({ type: 'FieldValueNotSupported', field: 'resourceVersionMatch', message: `Unsupported value: "${match}": supported values: "Exact", "NotOlderThan", ""` });
    }
    if (match === 'Exact' && rv === '0') causes.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"' });
  }
  if (params.has('sendInitialEvents')) causes.push({ type: 'FieldValueForbidden', field: 'sendInitialEvents', message: 'Forbidden: sendInitialEvents is forbidden for list' });
  if (causes.length > 0) throw invalid('ListOptions', 'meta.k8s.io', '', causes);
}

/** Where the answer's items come from, and at which revision. */
function source(ctx: ListContext, rt: ResourceType, namespace: string | undefined, params: URLSearchParams): { view: readonly Entry[]; rv: number; startAfter: string | undefined; limit: number } {
  const store = ctx.store;
  const rvParam = params.get('resourceVersion') ?? '';
  const match = params.get('resourceVersionMatch') ?? '';
  const cont = params.get('continue') ?? '';
  const limit = parseIntParam(params, 'limit', 0) ?? 0;
  if (cont !== '') {
    if (rvParam !== '' && rvParam !== '0') throw badRequest('specifying resource version is not allowed when using continue');
    const token = decodeContinue(cont);
    if (token.rv < 0) return { view: store.list(rt, namespace), rv: store.revision, startAfter: token.start, limit };
    const view = token.rv >= store.compactedRevision ? ctx.snapshots.find(rt, namespace, token.rv) : undefined;
    if (!view) {
      // etcd3/errors.go handleCompactedErrorForPaging: 410 with a token that continues at the latest revision.
      const err = new ApiError(410, INCONSISTENT_CONTINUE);
      err.listContinue = encodeContinue(-1, token.start);
      throw err;
    }
    return { view, rv: token.rv, startAfter: token.start, limit };
  }
  if (rvParam === '0' && ctx.watchCache) return { view: store.list(rt, namespace), rv: store.revision, startAfter: undefined, limit: 0 };
  if (rvParam === '' || rvParam === '0') return { view: store.list(rt, namespace), rv: store.revision, startAfter: undefined, limit };
  const requested = parseResourceVersion(rvParam);
  const isExact = match === 'Exact' || (match === '' && limit > 0);
  if (requested > store.revision) {
    throw new ApiError(504, `Too large resource version: ${requested}, current: ${store.revision}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
  }
  if (isExact && requested < store.revision) throw new ApiError(410, LIST_EXPIRED);
  return { view: store.list(rt, namespace), rv: store.revision, startAfter: undefined, limit };
}

function keyOf(e: Entry, isClusterWideNamespaced: boolean): string {
  return isClusterWideNamespaced ? `${e.namespace}/${e.name}` : e.name;
}

/** Fisher-Yates with the given random source. */
export function shuffled<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

export async function listObjects(ctx: ListContext, rt: ResourceType, version: string, namespace: string | undefined, params: URLSearchParams, reply: Reply): Promise<void> {
  validateListOptions(params);
  const selection = parseSelection(rt, params);
  const { view, rv, startAfter, limit } = source(ctx, rt, namespace, params);
  const clusterWide = rt.namespaced && namespace === undefined;
  let start = 0;
  if (startAfter !== undefined) {
    const slash = startAfter.indexOf('/');
    const [ns, name] = clusterWide ? [startAfter.slice(0, slash), startAfter.slice(slash + 1)] : [namespace ?? '', startAfter];
    if (clusterWide && slash === -1) throw badRequest(`invalid continue token: continue key is not valid: ${startAfter}`);
    start = lowerBound(view, ns, `${name}\u0000`);
  }
  const hasSelector = selection.labels.length > 0 || selection.fields !== undefined;
  let page: Entry[] = [];
  let lastIndex = view.length - 1;
  let hasMore = false;
  for (let i = start; i < view.length; i++) {
    const e = view[i] as Entry;
    if (hasSelector && !isSelected(selection, e.object)) continue;
    if (limit > 0 && page.length === limit) {
      hasMore = true;
      break;
    }
    page.push(e);
    lastIndex = i;
  }
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  if (hasMore) {
    const last = page.at(-1) as Entry;
    metadata['continue'] = encodeContinue(rv, keyOf(last, clusterWide));
    if (!hasSelector) metadata['remainingItemCount'] = view.length - lastIndex - 1;
    ctx.snapshots.keep(rt, namespace, rv, view);
  }
  if (ctx.shuffle) page = shuffled(page.slice(), ctx.shuffle);
  if (ctx.table) {
    reply.send(200, JSON_TYPE, JSON.stringify(tableFor(ctx.table, rt, version, page.map((e) => e.object), metadata)));
    return;
  }
  const apiVersion = rt.group === '' ? version : `${rt.group}/${version}`;
  await writeList(reply, apiVersion, `${rt.kind}List`, metadata, page.map(entryJson));
}

/** Writes `{apiVersion, kind, metadata, items:[...]}` from serialized items, in batches for big lists. */
export async function writeList(reply: Reply, apiVersion: string, kind: string, metadata: Record<string, unknown>, items: Buffer[]): Promise<void> {
  const header = Buffer.from(`${JSON.stringify({ apiVersion, kind, metadata }).slice(0, -1)},"items":[`);
  const footer = Buffer.from(']}');
  let length = header.length + footer.length + Math.max(0, items.length - 1);
  for (const b of items) length += b.length;
  if (length <= LIST_BATCH_BYTES) {
    const parts: Buffer[] = [header];
    items.forEach((b, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(b);
    });
    parts.push(footer);
    reply.send(200, JSON_TYPE, Buffer.concat(parts, length));
    return;
  }
  await reply.stream(200, JSON_TYPE, length, async (write) => {
    if (!(await write(header))) return;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for (let i = 0; i < items.length; i++) {
      if (i > 0) {
        batch.push(COMMA);
        batchBytes++;
      }
      const b = items[i] as Buffer;
      batch.push(b);
      batchBytes += b.length;
      if (batchBytes >= LIST_BATCH_BYTES) {
        if (!(await write(Buffer.concat(batch, batchBytes)))) return;
        batch = [];
        batchBytes = 0;
      }
    }
    batch.push(footer);
    await write(Buffer.concat(batch));
  });
}
