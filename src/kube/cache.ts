/**
 * The informer cache: one reflector (./reflector.ts) per kind the enabled checks need, the same kinds
 * and selectors the lists per cycle ask for. A cycle's snapshot is a view of all of them taken at
 * one moment (JavaScript runs one thing at a time: no event lands while the view is built), so the
 * checks of a cycle read one consistent state and never touch the API for it.
 *
 * A kind that has not answered its first list yet is waited for (within the cycle's deadline); one
 * whose first list failed is reported as that failed list; one that worked and then fails keeps
 * serving what it has until it has failed for longer than the grace period (a schedule interval),
 * then it is reported as failed, exactly as a failed list per cycle is: its checks turn `unknown`
 * with the reason. A kind the API will not let rollout-doctor watch (403) while it may list it is
 * listed every cycle instead (`watchFallbacks`: the log and /health say so).
 */
import type { Config } from '../config/schema.js';
import type { KubeClient, RequestObserver, RequestScope } from './client.js';
import { KubeError } from './errors.js';
import { DEFAULT_TIMING, Reflector, type ReflectorTiming } from './reflector.js';
import { kindQueries, type KindQuery, type LiveSource, type Outcome, type Snapshot, type SnapshotRequest, snapshotOf, type WatchFallback } from './snapshot.js';

export interface CacheOptions {
  /** How long a kind that worked may fail before cycles report it failed. */
  graceMs: () => number;
  timing?: Partial<ReflectorTiming>;
  /** Every request the reflectors make (the request counter). */
  onRequest?: RequestObserver;
  /** A kind's watch was forbidden (polled now) or works again. */
  onModeChange?: (kind: string, mode: 'watch' | 'poll', reason?: string) => void;
}

function identity(query: KindQuery): string {
  return JSON.stringify([query.group, query.version, query.plural, query.namespace ?? '', query.labelSelector ?? '', query.fieldSelector ?? '']);
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export class CacheSource implements LiveSource {
  /** By snapshot key; a fallback kind's reflector under its own key. */
  private readonly reflectors = new Map<string, { reflector: Reflector; identity: string }>();
  private readonly changed = new Set<string>();
  private readonly listeners: (() => void)[] = [];
  private readonly timing: ReflectorTiming;
  /** Fallback kind key -> the kind it stands in for (endpoints -> endpointslices). */
  private readonly standsInFor = new Map<string, string>();

  constructor(
    private readonly client: KubeClient,
    private readonly options: CacheOptions,
  ) {
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  takeChanges(): Set<string> {
    const out = new Set(this.changed);
    this.changed.clear();
    return out;
  }

  watchFallbacks(): WatchFallback[] {
    const out: WatchFallback[] = [];
    for (const [kind, { reflector }] of this.reflectors) {
      const reason = reflector.pollReason;
      if (reason !== undefined) out.push({ kind, reason });
    }
    return out.sort((a, b) => a.kind.localeCompare(b.kind));
  }

  private start(query: KindQuery): Reflector {
    const reflector = new Reflector(
      query,
      this.client,
      {
        onChange: (key) => {
          this.changed.add(this.standsInFor.get(key) ?? key);
          for (const listener of this.listeners) listener();
        },
        onModeChange: (key, mode, reason) => this.options.onModeChange?.(key, mode, reason),
        onFallback: (key) => {
          const fallback = this.reflectors.get(key)?.reflector.query.fallback;
          if (!fallback || this.reflectors.has(fallback.key)) return;
          this.standsInFor.set(fallback.key, key);
          this.start(fallback);
        },
        onRequest: this.options.onRequest,
      },
      this.timing,
    );
    this.reflectors.set(query.key, { reflector, identity: identity(query) });
    reflector.start();
    return reflector;
  }

  /** Reflectors for exactly these kinds (and the fallbacks in use); the rest stopped. */
  private reconcile(queries: readonly KindQuery[]): void {
    const wanted = new Map(queries.map((q) => [q.key, q]));
    for (const [key, { reflector, identity: id }] of this.reflectors) {
      const primary = this.standsInFor.get(key);
      const query = wanted.get(key);
      const isWanted = query ? identity(query) === id : primary !== undefined && wanted.has(primary) && this.reflectors.get(primary)?.reflector.usesFallback === true;
      if (isWanted) continue;
      this.reflectors.delete(key);
      this.standsInFor.delete(key);
      void reflector.stop();
    }
    for (const query of queries) if (!this.reflectors.has(query.key)) this.start(query);
  }

  /** Waits for the first list of each kind (and of a fallback it turned to) that has not answered yet. */
  private async settle(queries: readonly KindQuery[], signal: AbortSignal): Promise<void> {
    const aborted = untilAborted(signal);
    for (let round = 0; round < 2; round++) {
      const pending = queries.flatMap((q) => {
        const reflector = this.reflectors.get(q.key)?.reflector;
        const fallback = reflector?.usesFallback && q.fallback ? this.reflectors.get(q.fallback.key)?.reflector : undefined;
        return [reflector, fallback].filter((r): r is Reflector => r !== undefined).map((r) => r.firstAttempt);
      });
      await Promise.race([Promise.all(pending), aborted]);
    }
  }

  /** A kind's outcome; one still waiting for its first list is an error, or undefined when `pending` says so. */
  private outcome(query: KindQuery, nowMs: number, pending: 'error' | 'undefined'): Outcome | undefined {
    const outcome = this.reflectors.get(query.key)?.reflector.outcome(nowMs, this.options.graceMs());
    if (outcome || pending === 'undefined') return outcome;
    return { state: 'error', error: new KubeError('Timeout', 0, 'list', query.resource, 'its first list had not answered by the cycle deadline', query.namespace) };
  }

  private outcomes(queries: readonly KindQuery[], pending: 'error' | 'undefined'): Map<string, Outcome> | undefined {
    const nowMs = Date.now();
    const out = new Map<string, Outcome>();
    for (const query of queries) {
      const kinds = query.fallback && this.reflectors.get(query.key)?.reflector.usesFallback ? [query, query.fallback] : [query];
      for (const kind of kinds) {
        const outcome = this.outcome(kind, nowMs, pending);
        if (!outcome) return undefined;
        out.set(kind.key, outcome);
      }
    }
    return out;
  }

  async snapshot(request: SnapshotRequest, config: Config, scope: RequestScope, now: Date): Promise<Snapshot> {
    const queries = kindQueries(request, config);
    this.reconcile(queries);
    const polled = [...this.reflectors.values()].map((r) => r.reflector).filter((r) => r.isPolled);
    await Promise.all(polled.map((r) => r.poll(scope)));
    await this.settle(queries, scope.signal);
    // Everything changed so far is in this view.
    this.changed.clear();
    return snapshotOf(now, this.outcomes(queries, 'error')!, config);
  }

  view(request: SnapshotRequest, config: Config, now: Date): Snapshot | undefined {
    const outcomes = this.outcomes(kindQueries(request, config), 'undefined');
    return outcomes && snapshotOf(now, outcomes, config);
  }

  async close(): Promise<void> {
    const all = [...this.reflectors.values()].map((r) => r.reflector);
    this.reflectors.clear();
    await Promise.all(all.map((r) => r.stop()));
  }
}
