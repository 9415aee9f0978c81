/**
 * WATCH (`?watch=1`) as kube-apiserver v1.32 serves it from its watch cache
 * (staging/src/k8s.io/apiserver/pkg/storage/cacher at v1.32.0): one JSON event per line,
 * `{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}`.
 *
 * - No resourceVersion, or `0`: the current state as ADDED events, then every change
 *   (watch_cache.go getAllEventsSinceLocked, "to keep backward compatibility").
 * - `resourceVersion=N`: the changes after N; N older than the kept window: an ERROR event with
 *   410 Expired "too old resource version: N (M)" on a 200 answer (cacher.go Watch: errors after the
 *   resource version was parsed "must fail with a watch event of type ERROR").
 * - `sendInitialEvents=true` (WatchList, on by default in 1.32; needs
 *   `resourceVersionMatch=NotOlderThan`): the current state, then a BOOKMARK annotated
 *   `k8s.io/initial-events-end: "true"`.
 * - `allowWatchBookmarks=true`: BOOKMARK events about every minute and 2 s before the timeout
 *   (cache_watcher.go nextBookmarkTime), carrying only the current resourceVersion.
 * - `timeoutSeconds`: the server ends the stream then (handlers/get.go); without it, after
 *   minRequestTimeout (1800 s) times a random factor in [1, 2).
 * - An object that stops (or starts) matching a selector is DELETED (ADDED) for that watch
 *   (cacher.go cacheWatcher.convertToWatchEvent).
 *
 * Faults for tests (`--fault watch:pods=410` and so on): 410 sends the ERROR event at once, `stall`
 * sends the headers and then nothing (no events, no bookmarks) until the client leaves.
 */
import { asRecord, type ResourceType } from './kinds.js';
import { isSelected, isTrue, parseIntParam, parseResourceVersion, parseSelection } from './lists.js';
import { JSON_TYPE, type ChunkWriter, type Reply } from './reply.js';
import { ApiError, invalid, statusBody } from './status.js';
import { entryJson, type Entry, type KubeObject, type ObjectStore, type StoreEvent } from './store.js';
import { tableFor, type TableContext } from './tables.js';

/** kube-apiserver --min-request-timeout default. */
const MIN_REQUEST_TIMEOUT_SECONDS = 1800;

export interface WatchContext {
  store: ObjectStore;
  /** Between bookmarks (a real server: about a minute). */
  bookmarkIntervalMs: number;
  table: TableContext | undefined;
  /** `410` or `stall` injected for this watch. */
  fault: 410 | 'stall' | undefined;
  timers: Set<NodeJS.Timeout>;
}

function validateWatchOptions(params: URLSearchParams): void {
  const causes: { field: string; message: string; type: string }[] = [];
  const match = params.get('resourceVersionMatch') ?? '';
  const sendInitial = params.get('sendInitialEvents');
  if (sendInitial !== null && match !== 'NotOlderThan') {
    causes.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: 'Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan' });
  }
  if (match !== '') {
    if (sendInitial === null) causes.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided' });
    if (match !== 'NotOlderThan') causes.push({ type: 'FieldValueNotSupported', field: 'resourceVersionMatch', message: `Unsupported value: "${match}": supported values: "NotOlderThan"` });
    if ((params.get('continue') ?? '') !== '') causes.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden when continue is provided' });
  }
  if (causes.length > 0) throw invalid('ListOptions', 'meta.k8s.io', '', causes);
}

function line(type: string, object: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`{"type":"${type}","object":`), object, Buffer.from('}\n')]);
}

function bookmark(rt: ResourceType, version: string, rv: number, annotations?: Record<string, string>): Buffer {
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  if (annotations) metadata['annotations'] = annotations;
  return line('BOOKMARK', Buffer.from(JSON.stringify({ kind: rt.kind, apiVersion: rt.group === '' ? version : `${rt.group}/${version}`, metadata })));
}

function expired(message: string): Buffer {
  return line('ERROR', Buffer.from(JSON.stringify(statusBody(410, message, undefined, 'Expired'))));
}

function inScope(entry: Entry, namespace: string | undefined, name: string | undefined): boolean {
  return (namespace === undefined || entry.namespace === namespace) && (name === undefined || entry.name === name);
}

/** What one store event is for one watcher: nothing, or the event its selector makes of it. */
function eventFor(e: StoreEvent, matches: (o: KubeObject) => boolean): { type: string; entry: Entry } | undefined {
  const now = e.type !== 'DELETED' && matches(e.entry.object);
  const before = e.previous !== undefined && matches(e.previous.object);
  if (e.type === 'DELETED') return before ? { type: 'DELETED', entry: e.entry } : undefined;
  if (now && before) return { type: 'MODIFIED', entry: e.entry };
  if (now) return { type: 'ADDED', entry: e.entry };
  // It stopped matching: the watcher sees it leave, with its new state.
  if (before) return { type: 'DELETED', entry: e.entry };
  return undefined;
}

export async function watchObjects(
  ctx: WatchContext,
  rt: ResourceType,
  version: string,
  namespace: string | undefined,
  name: string | undefined,
  params: URLSearchParams,
  reply: Reply,
): Promise<void> {
  validateWatchOptions(params);
  const selection = parseSelection(rt, params);
  const matches = (o: KubeObject): boolean => isSelected(selection, o);
  const rvParam = params.get('resourceVersion') ?? '';
  const requested = rvParam === '' || rvParam === '0' ? undefined : parseResourceVersion(rvParam);
  const timeoutSeconds = parseIntParam(params, 'timeoutSeconds', 0);
  const timeoutMs = (timeoutSeconds && timeoutSeconds > 0 ? timeoutSeconds : MIN_REQUEST_TIMEOUT_SECONDS * (1 + Math.random())) * 1000;
  const sendInitial = params.get('sendInitialEvents');
  const allowBookmarks = isTrue(params, 'allowWatchBookmarks');
  const store = ctx.store;
  let headersSent = false;
  let tableHeaders = true;

  const encode = (type: string, entry: Entry): Buffer => {
    if (!ctx.table) return line(type, entryJson(entry));
    const table = tableFor(ctx.table, rt, version, [entry.object], { resourceVersion: String(asRecord(entry.object['metadata'])['resourceVersion'] ?? '') });
    if (!tableHeaders) table['columnDefinitions'] = null;
    tableHeaders = false;
    return line(type, Buffer.from(JSON.stringify(table)));
  };

  await reply.stream(200, JSON_TYPE, undefined, async (write: ChunkWriter) => {
    headersSent = true;
    if (ctx.fault === 'stall') {
      await reply.closed;
      return;
    }
    if (ctx.fault === 410) {
      await write(expired(`too old resource version: ${requested ?? store.revision} (${store.revision})`));
      return;
    }
    // Changes arriving while the initial state is written wait in the queue.
    const queue: StoreEvent[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = store.subscribe((e) => {
      if (e.rt !== rt || !inScope(e.entry, namespace, name)) return;
      queue.push(e);
      wake?.();
    });
    let isDone = false;
    const finish = (): void => {
      isDone = true;
      wake?.();
    };
    const timeout = setTimeout(finish, timeoutMs);
    ctx.timers.add(timeout);
    void reply.closed.then(finish);
    let bookmarkTimer: NodeJS.Timeout | undefined;
    const bookmarkDue = { value: false };
    const scheduleBookmark = (): void => {
      if (!allowBookmarks) return;
      const untilTimeout = timeoutMs - 2000 - (Date.now() - started);
      const delay = Math.max(0, Math.min(ctx.bookmarkIntervalMs, untilTimeout > 0 ? untilTimeout : ctx.bookmarkIntervalMs));
      bookmarkTimer = setTimeout(() => {
        ctx.timers.delete(bookmarkTimer as NodeJS.Timeout);
        bookmarkDue.value = true;
        wake?.();
      }, delay);
      ctx.timers.add(bookmarkTimer);
    };
    const started = Date.now();
    try {
      let from = store.revision;
      if (requested === undefined && sendInitial !== 'false') {
        for (const entry of store.list(rt, namespace)) {
          if (!inScope(entry, namespace, name) || !matches(entry.object)) continue;
          if (!(await write(encode('ADDED', entry)))) return;
        }
        if (sendInitial === 'true' && allowBookmarks) {
          if (!(await write(bookmark(rt, version, from, { 'k8s.io/initial-events-end': 'true' })))) return;
        }
      } else if (requested !== undefined) {
        const since = store.eventsSince(rt, requested);
        if (since.events === undefined) {
          await write(expired(`too old resource version: ${requested} (${since.oldest - 1})`));
          return;
        }
        if (requested > store.revision) {
          await write(line('ERROR', Buffer.from(JSON.stringify(statusBody(504, `Too large resource version: ${requested}, current: ${store.revision}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 }, 'Timeout')))));
          return;
        }
        for (const e of since.events) {
          if (!inScope(e.entry, namespace, name)) continue;
          const ev = eventFor(e, matches);
          if (ev && !(await write(encode(ev.type, ev.entry)))) return;
        }
        from = store.revision;
      }
      scheduleBookmark();
      while (!isDone) {
        while (queue.length > 0) {
          const e = queue.shift() as StoreEvent;
          if (e.rv <= from) continue;
          const ev = eventFor(e, matches);
          if (ev && !(await write(encode(ev.type, ev.entry)))) return;
        }
        if (bookmarkDue.value) {
          bookmarkDue.value = false;
          if (!(await write(bookmark(rt, version, store.revision)))) return;
          scheduleBookmark();
        }
        if (isDone) break;
        if (queue.length > 0 || bookmarkDue.value) continue;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      unsubscribe();
      clearTimeout(timeout);
      ctx.timers.delete(timeout);
      if (bookmarkTimer) {
        clearTimeout(bookmarkTimer);
        ctx.timers.delete(bookmarkTimer);
      }
    }
  });
  if (!headersSent) throw new ApiError(500, 'Internal error occurred: watch did not start');
}
