/**
 * A reflector keeps one kind in memory with list + watch, as client-go's does (k8s.io/client-go
 * v0.32.0 tools/cache/reflector.go; facts ported, not code): list once, then watch from the list's
 * resourceVersion with bookmarks; the server ends a watch after its timeoutSeconds and the watch
 * continues from the last resourceVersion seen; 410 Gone (the ERROR event "too old resource
 * version") relists; errors back off exponentially with jitter. Objects are projected as they arrive
 * (./projection.ts) and replaced only when their projection changed, so a change nobody reads (a
 * resourceVersion, managedFields, a heartbeat) notifies nobody.
 *
 * Beyond client-go: a watch silent for `silenceMs` (no event, no bookmark) or open past its
 * timeout is stopped and started again; a watch the API forbids (403) while the list is allowed turns
 * the kind into a poll (the cache lists it every cycle) and the watch is tried again later; a
 * custom kind whose CRD is missing (404) is `absent` and listed again from time to time, so a CRD
 * installed after start is picked up.
 */
import { isDeepStrictEqual } from 'node:util';
import { type KubeClient, type RequestObserver, type RequestScope, statusError } from './client.js';
import { KubeError } from './errors.js';
import { absentReason, asKubeError, fallbackReason, isAbsent, listKind } from './lists.js';
import { projectorFor } from './projection.js';
import type { KindQuery, Outcome } from './snapshot.js';

export interface ReflectorTiming {
  /** A watch asks the server to end it after a random timeout in [min, 2 x min) s (client-go: 5 minutes). */
  minWatchTimeoutSeconds: number;
  /**
   * No byte for this long and the watch is dead, stopped and started again. API servers send a
   * bookmark about every minute, so a healthy quiet watch always hears something sooner.
   */
  silenceMs: number;
  /**
   * Exponential backoff on errors: the first delay and the longest, doubling, jitter 1.0, back to the
   * first after two minutes without one (client-go: 800 ms, 30 s, 2 min).
   */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** How often a kind that is not installed (no CRD) is listed again. */
  absentRetryMs: number;
  /** After a forbidden watch, how long the kind is polled before watching is tried again. */
  watchRetryMs: number;
}

export const DEFAULT_TIMING: ReflectorTiming = {
  minWatchTimeoutSeconds: 300,
  silenceMs: 150_000,
  backoffInitialMs: 800,
  backoffMaxMs: 30_000,
  absentRetryMs: 30_000,
  watchRetryMs: 600_000,
};

/** Backoff starts over after this long without one (client-go reflector.go: resetDuration 2 minutes). */
const BACKOFF_RESET_MS = 120_000;

/** A watch that ends sooner than this after it started ends again at once: back off before the next. */
const SHORT_WATCH_MS = 1000;

/** client-go's wait.Jitter(d, 1.0): a delay in [d, 2d). */
export function jittered(ms: number, random: () => number = Math.random): number {
  return ms + random() * ms;
}

/** What the reflector tells the cache. */
export interface ReflectorEvents {
  /** An object of this kind changed (added, changed where the checks read, deleted). */
  onChange(key: string): void;
  /** Watching this kind is forbidden (it is polled now), or allowed again. */
  onModeChange(key: string, mode: 'watch' | 'poll', reason?: string): void;
  /** The kind answered 404 and has a fallback kind (EndpointSlices -> Endpoints) to read instead. */
  onFallback(key: string): void;
  /** Every request a reflector makes (metrics). */
  onRequest?: RequestObserver;
}

interface Resumable {
  rv: string;
}

/** How a watch ended. */
type WatchEnd = { kind: 'closed'; events: number } | { kind: 'expired' } | { kind: 'failed'; error: KubeError } | { kind: 'stopped' };

function objectKey(object: unknown): string | undefined {
  const metadata = (object as { metadata?: { namespace?: string; name?: string } } | null)?.metadata;
  if (!metadata?.name) return undefined;
  return `${metadata.namespace ?? ''}/${metadata.name}`;
}

function resourceVersionOf(object: unknown): string | undefined {
  const rv = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}

/** The URL path of a kind's collection: /api/v1/pods, /apis/apps/v1/namespaces/ns/replicasets. */
export function collectionPath(query: KindQuery): string {
  const base = query.group === '' ? `/api/${query.version}` : `/apis/${query.group}/${query.version}`;
  return `${base}${query.namespace ? `/namespaces/${encodeURIComponent(query.namespace)}` : ''}/${query.plural}`;
}

export class Reflector {
  private readonly items = new Map<string, unknown>();
  private itemsArray?: readonly unknown[];
  private readonly project;
  private readonly stopController = new AbortController();
  private isStopped = false;
  private isSynced = false;
  private absent?: string;
  private lastError?: KubeError;
  private failingSinceMs?: number;
  private mode: 'watch' | 'poll' = 'watch';
  private forbiddenReason?: string;
  /** Where the next watch (or a relist after 410) continues from. */
  private readonly cursor: Resumable = { rv: '0' };
  /** The resourceVersion of the last list, or '' once that was too old (then a consistent read). */
  private relistFrom = '0';
  private backoffMs = 0;
  private lastBackoffMs = Number.NEGATIVE_INFINITY;
  private settle?: () => void;
  private wake?: () => void;
  private stopWatch?: () => void;
  private loop?: Promise<void>;
  /** Settles when the first list attempt answered, either way. */
  readonly firstAttempt: Promise<void>;

  constructor(
    readonly query: KindQuery,
    private readonly client: KubeClient,
    private readonly events: ReflectorEvents,
    private readonly timing: ReflectorTiming = DEFAULT_TIMING,
    private readonly now: () => number = Date.now,
  ) {
    this.project = projectorFor(query);
    this.firstAttempt = new Promise((resolve) => (this.settle = resolve));
  }

  start(): void {
    this.loop ??= this.run().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    this.stopController.abort(new Error('the cache is stopping'));
    this.stopWatch?.();
    this.wake?.();
    this.settle?.();
    await this.loop;
  }

  get isPolled(): boolean {
    return this.mode === 'poll';
  }

  /** Why watching is forbidden, while the kind is polled. */
  get pollReason(): string | undefined {
    return this.mode === 'poll' ? this.forbiddenReason : undefined;
  }

  /** Whether the kind answered 404 and has a fallback to read instead. */
  get usesFallback(): boolean {
    return this.absent !== undefined && this.query.fallback !== undefined;
  }

  /**
   * The kind for a cycle started at `nowMs`: its items; `absent`; an error once the kind has failed
   * for longer than `graceMs` (or has never been listed); undefined while the first list is in flight.
   */
  outcome(nowMs: number, graceMs: number): Outcome | undefined {
    if (this.absent !== undefined) return { state: 'absent', reason: this.absent };
    if (!this.isSynced) return this.lastError ? { state: 'error', error: this.lastError } : undefined;
    // A failed poll is a failed list: reported at once, as lists per cycle are.
    const isFailed = this.mode === 'poll' || (this.failingSinceMs !== undefined && nowMs - this.failingSinceMs > graceMs);
    if (this.lastError && isFailed) return { state: 'error', error: this.lastError };
    this.itemsArray ??= [...this.items.values()];
    return { state: 'ok', items: this.itemsArray };
  }

  /** A polled kind's list for one cycle, into the same store (its changes notify like watched ones). */
  async poll(scope: RequestScope): Promise<void> {
    try {
      const answer = await listKind(this.client, this.query, scope, { project: this.project });
      this.replace(answer.items);
      this.cursor.rv = answer.resourceVersion;
      this.isSynced = true;
      this.lastError = undefined;
      this.failingSinceMs = undefined;
    } catch (error) {
      this.fail(asKubeError(error, 'list', this.query));
    }
  }

  private fail(error: KubeError): void {
    this.lastError = error;
    this.failingSinceMs ??= this.now();
  }

  private recovered(): void {
    this.lastError = undefined;
    this.failingSinceMs = undefined;
  }

  /** Sleeps (stop wakes it); false once stopped. */
  private async sleep(ms: number): Promise<boolean> {
    if (this.isStopped) return false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
    return !this.isStopped;
  }

  private nextBackoff(): number {
    const nowMs = this.now();
    if (nowMs - this.lastBackoffMs > BACKOFF_RESET_MS) this.backoffMs = 0;
    this.lastBackoffMs = nowMs;
    this.backoffMs = this.backoffMs === 0 ? this.timing.backoffInitialMs : Math.min(this.timing.backoffMaxMs, this.backoffMs * 2);
    return jittered(this.backoffMs);
  }

  private changed(): void {
    this.itemsArray = undefined;
    this.events.onChange(this.query.key);
  }

  /** Replaces the store with a list's items; notifies once if anything changed. */
  private replace(items: readonly unknown[]): void {
    const next = new Map<string, unknown>();
    let isChanged = false;
    for (const item of items) {
      const key = objectKey(item);
      if (key === undefined) continue;
      const previous = this.items.get(key);
      if (previous !== undefined && isDeepStrictEqual(previous, item)) next.set(key, previous);
      else {
        next.set(key, item);
        isChanged = true;
      }
    }
    if (next.size !== this.items.size) isChanged = true;
    this.items.clear();
    for (const [key, item] of next) this.items.set(key, item);
    if (isChanged || !this.isSynced) this.changed();
  }

  /** Lists into the store; false when it did not (absent, failed: handled here). */
  private async list(): Promise<boolean> {
    try {
      const answer = await listKind(this.client, this.query, { signal: this.stopController.signal, onRequest: this.events.onRequest }, { resourceVersion: this.relistFrom, project: this.project });
      this.replace(answer.items);
      this.cursor.rv = answer.resourceVersion;
      this.relistFrom = answer.resourceVersion || '0';
      this.isSynced = true;
      this.absent = undefined;
      this.recovered();
      return true;
    } catch (error) {
      if (this.isStopped) return false;
      const kubeError = asKubeError(error, 'list', this.query);
      if (isAbsent(this.query, kubeError) || (this.query.fallback && kubeError.reason === 'NotFound')) {
        const wasAbsent = this.absent !== undefined;
        this.absent = isAbsent(this.query, kubeError) ? absentReason(this.query) : fallbackReason(this.query);
        if (this.items.size > 0) this.replace([]);
        this.recovered();
        if (!wasAbsent && this.query.fallback) this.events.onFallback(this.query.key);
        return false;
      }
      // A list at an old resourceVersion that is gone: the next one is a consistent read (client-go
      // reflector.go relistResourceVersion after isLastSyncResourceVersionUnavailable).
      if (kubeError.status === 410) this.relistFrom = '';
      this.fail(kubeError);
      return false;
    } finally {
      this.settle?.();
      this.settle = undefined;
    }
  }

  private apply(type: string, object: unknown): 'expired' | KubeError | undefined {
    if (type === 'ERROR') {
      const status = object as { code?: number; reason?: string } | null;
      if (status?.code === 410 || status?.reason === 'Expired' || status?.reason === 'Gone') return 'expired';
      return statusError(typeof status?.code === 'number' ? status.code : 500, object, { verb: 'watch', resource: this.query.resource, namespace: this.query.namespace });
    }
    const rv = resourceVersionOf(object);
    if (rv) this.cursor.rv = rv;
    if (type === 'BOOKMARK') return undefined;
    const key = objectKey(object);
    if (key === undefined) return undefined;
    if (type === 'DELETED') {
      if (this.items.delete(key)) this.changed();
      return undefined;
    }
    if (type !== 'ADDED' && type !== 'MODIFIED') return undefined;
    const projected = this.project(object);
    const previous = this.items.get(key);
    if (previous !== undefined && isDeepStrictEqual(previous, projected)) return undefined;
    this.items.set(key, projected);
    this.changed();
    return undefined;
  }

  /** One watch from the cursor, until it ends. */
  private async watchOnce(): Promise<WatchEnd> {
    const timeoutSeconds = Math.floor(jittered(this.timing.minWatchTimeoutSeconds));
    let resolveEnd: (end: WatchEnd) => void = () => undefined;
    const ended = new Promise<WatchEnd>((resolve) => (resolveEnd = resolve));
    let isOver = false;
    let events = 0;
    const end = (value: WatchEnd) => {
      if (isOver) return;
      isOver = true;
      resolveEnd(value);
    };
    const handle = await this.client.watch(
      { verb: 'watch', resource: this.query.resource, namespace: this.query.namespace },
      collectionPath(this.query),
      { resourceVersion: this.cursor.rv, allowWatchBookmarks: true, timeoutSeconds, labelSelector: this.query.labelSelector, fieldSelector: this.query.fieldSelector },
      this.timing.silenceMs,
      (type, object) => {
        if (isOver) return;
        events++;
        if (type !== 'ERROR') this.recovered();
        const outcome = this.apply(type, object);
        if (outcome === 'expired') end({ kind: 'expired' });
        else if (outcome) end({ kind: 'failed', error: outcome });
      },
      (error) => end(error ? { kind: 'failed', error } : { kind: 'closed', events }),
      this.events.onRequest,
    );
    this.stopWatch = () => end({ kind: 'stopped' });
    if (this.isStopped) end({ kind: 'stopped' });
    // The kind works again once an event arrives, or the watch stays open a second (a garbled answer
    // ends sooner). After a silent watch, only an event, a bookmark or the server ending the watch at
    // its timeout proves the next one works.
    const healthy = setTimeout(() => {
      if (!isOver && this.lastError?.reason !== 'Timeout') this.recovered();
    }, SHORT_WATCH_MS);
    // A watch the server does not end by its timeout has stopped working: end it here.
    const overdue = setTimeout(() => end({ kind: 'failed', error: new KubeError('Timeout', 0, 'watch', this.query.resource, `still open 30 s past its timeoutSeconds=${timeoutSeconds}`, this.query.namespace) }), (timeoutSeconds + 30) * 1000);
    const result = await ended;
    clearTimeout(healthy);
    clearTimeout(overdue);
    handle.stop();
    this.stopWatch = undefined;
    return result;
  }

  private async run(): Promise<void> {
    let needsList = true;
    while (!this.isStopped) {
      if (needsList) {
        if (!(await this.list())) {
          if (this.isStopped) return;
          if (!(await this.sleep(this.absent !== undefined ? jittered(this.timing.absentRetryMs) : this.nextBackoff()))) return;
          continue;
        }
        needsList = false;
      }
      if (this.mode === 'poll' && !(await this.sleep(jittered(this.timing.watchRetryMs)))) return;
      const started = this.now();
      const end = await this.watchOnce();
      if (end.kind === 'stopped') return;
      const isShort = this.now() - started < SHORT_WATCH_MS;
      if (end.kind === 'expired') {
        // The resourceVersion is compacted away: list again, not older than the last one seen
        // (client-go relists at its last synced resourceVersion).
        this.relistFrom = this.cursor.rv;
        needsList = true;
        if (isShort && !(await this.sleep(this.nextBackoff()))) return;
        continue;
      }
      if (end.kind === 'failed' && end.error.reason === 'Forbidden') {
        if (this.mode !== 'poll') {
          this.mode = 'poll';
          this.forbiddenReason = end.error.message;
          this.events.onModeChange(this.query.key, 'poll', end.error.message);
        }
        continue;
      }
      if (end.kind === 'failed' && end.error.reason === 'NotFound') {
        // The kind went away (a CRD deleted): the list says whether it is absent now.
        needsList = true;
        if (isShort && !(await this.sleep(this.nextBackoff()))) return;
        continue;
      }
      if (this.mode === 'poll') {
        this.mode = 'watch';
        this.forbiddenReason = undefined;
        this.events.onModeChange(this.query.key, 'watch');
      }
      // client-go reflector.go watchHandler: a watch that lasted under a second without an event is
      // an error ("very short watch"). client-node's Watch also drops lines it cannot parse: a garbled
      // or cut-off answer ends that way.
      const failure = end.kind === 'failed' ? end.error : isShort && end.events === 0 ? new KubeError('InvalidResponse', 0, 'watch', this.query.resource, 'the watch ended within a second without an event', this.query.namespace) : undefined;
      if (failure) {
        this.fail(failure);
        if (!(await this.sleep(this.nextBackoff()))) return;
        continue;
      }
      // Closed by the server at its timeout: the connection works; continue from the cursor. A watch
      // that closes at once every time backs off.
      if (!isShort) this.recovered();
      else if (!(await this.sleep(this.nextBackoff()))) return;
    }
  }
}
