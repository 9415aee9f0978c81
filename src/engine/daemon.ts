/**
 * The daemon's state machine: runs cycles (never two at once), keeps the store, groups its results
 * into incidents once per cycle (src/incidents/correlate.ts), logs status changes, and reports
 * staleness when cycles stop completing. It publishes every finished cycle (and every skipped tick)
 * to its subscribers; main.ts subscribes the metrics and /health renderers, so data flows one way
 * (engine -> metrics, http) and a request never starts a cycle.
 */
import { nextSlice } from '../slices.js';
import type { LoadedConfig } from '../config/load.js';
import type { KubeClient, RequestObserver } from '../kube/client.js';
import { customKindKey, isLiveSource, type SnapshotSource } from '../kube/snapshot.js';
import type { Logger } from '../log.js';
import { type Correlation, correlate, type IncidentMemory, NO_INCIDENTS } from '../incidents/correlate.js';
import type { Prober } from '../probe/http.js';
import { checkNeeds, type CycleOutcome, type CycleReuse, enabledChecks, runCycle, runPartial } from './runner.js';
import { scheduleIntervalSeconds, Scheduler } from './scheduler.js';
import { type CycleInfo, ResultStore, type StatusChange } from './store.js';
import type { Check, StoredResult } from './types.js';

/**
 * What the daemon publishes: a finished cycle; a re-evaluation between cycles (`partial`: some
 * checks ran again on the cache after a change; `cycle` is still the last full one); or a tick
 * skipped because a cycle was still running.
 */
export type DaemonEvent =
  | { type: 'cycle'; results: readonly StoredResult[]; incidents: Correlation; cycle: CycleInfo; intervalSeconds: number }
  | { type: 'partial'; results: readonly StoredResult[]; incidents: Correlation; cycle: CycleInfo; intervalSeconds: number; checks: string[] }
  | { type: 'skip'; results: readonly StoredResult[]; incidents: Correlation; intervalSeconds: number };

/** Renderers subscribe; the daemon waits for them, so a cycle is complete once they have rendered it. */
export type DaemonSubscriber = (event: DaemonEvent) => void | Promise<void>;

export interface DaemonDeps {
  client: KubeClient;
  /** Where cycles take their snapshot: lists per cycle, or the informer cache. */
  source: SnapshotSource;
  checks: readonly Check[];
  config: LoadedConfig;
  prober: Prober;
  log: Logger;
  /** Called for every Kubernetes request (the request counter). */
  onRequest?: RequestObserver;
  /** Only these check ids (the `check --check ID` flag). */
  only?: readonly string[];
  /** Fixed evaluation time for simulations. */
  evaluationTime?: () => Date;
  /** Wall clock; tests replace it to exercise staleness. */
  now?: () => Date;
}

/** Staleness: no completed cycle for this many schedule intervals. */
export const STALE_INTERVALS = 3;

/** Re-evaluations after changes: at most one a second, each waiting this long for changes that come together (a rollout step moves a Rollout, ReplicaSets and pods). */
export const REEVALUATE_INTERVAL_MS = 1000;
export const REEVALUATE_GATHER_MS = 100;

export class Daemon {
  readonly store = new ResultStore();
  private loaded: LoadedConfig;
  private intervalSeconds: number;
  private running?: Promise<CycleOutcome | undefined>;
  private readonly stopController = new AbortController();
  private scheduler?: Scheduler;
  private readonly now: () => Date;
  private readonly subscribers: DaemonSubscriber[] = [];
  /** The last full cycle's reads and probes, reused by re-evaluations. */
  private reuse?: CycleReuse;
  private reevaluation?: { timer?: NodeJS.Timeout; running?: Promise<void> };
  private lastReevaluationMs = Number.NEGATIVE_INFINITY;
  private incidentMemory?: IncidentMemory;
  private correlation: Correlation = NO_INCIDENTS;

  constructor(private readonly deps: DaemonDeps) {
    this.loaded = deps.config;
    this.intervalSeconds = scheduleIntervalSeconds(deps.config.config.schedule);
    this.now = deps.now ?? (() => new Date());
    const source = deps.source;
    if (isLiveSource(source)) source.onChange(() => this.scheduleReevaluation());
  }

  /** Adds a subscriber for every cycle and skipped tick from now on. */
  subscribe(subscriber: DaemonSubscriber): void {
    this.subscribers.push(subscriber);
  }

  /** A fresh slice (src/slices.ts) for each subscriber, so requests waiting meanwhile are answered. */
  private async publish(event: DaemonEvent): Promise<void> {
    for (const subscriber of this.subscribers) {
      await nextSlice();
      await subscriber(event);
    }
  }

  get config(): LoadedConfig {
    return this.loaded;
  }

  /** The incidents of the last completed cycle. */
  get incidents(): Correlation {
    return this.correlation;
  }

  get isCycleRunning(): boolean {
    return this.running !== undefined;
  }

  get scheduleIntervalSeconds(): number {
    return this.intervalSeconds;
  }

  checks(): Check[] {
    return enabledChecks(this.deps.checks, this.loaded.config, this.deps.only);
  }

  /** Runs one cycle now; when one is already running, counts a skip and returns undefined. */
  async runOnce(): Promise<CycleOutcome | undefined> {
    if (this.running) {
      this.deps.log.warn({ event: 'cycle_skipped' }, 'previous cycle still running; tick skipped');
      await this.publish({ type: 'skip', results: this.store.results(), incidents: this.correlation, intervalSeconds: this.intervalSeconds });
      return undefined;
    }
    this.running = this.cycle();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
      // Changes that came while the cycle ran are not in its view.
      this.scheduleReevaluation();
    }
  }

  /** A change in the cache: the checks that read it run again soon (not while a cycle runs; at most once a second). */
  private scheduleReevaluation(): void {
    if (this.stopController.signal.aborted || this.reevaluation || this.running || !this.reuse) return;
    const delayMs = Math.max(REEVALUATE_GATHER_MS, this.lastReevaluationMs + REEVALUATE_INTERVAL_MS - Date.now());
    const state: { timer?: NodeJS.Timeout; running?: Promise<void> } = {};
    this.reevaluation = state;
    state.timer = setTimeout(() => {
      state.running = this.reevaluate().finally(() => {
        this.reevaluation = undefined;
        this.scheduleReevaluation();
      });
    }, delayMs);
  }

  /** Runs the checks that read a changed kind on the cache's current view. */
  private async reevaluate(): Promise<void> {
    const source = this.deps.source;
    if (!isLiveSource(source) || this.running || !this.reuse || !this.store.lastCycle) return;
    const changed = source.takeChanges();
    if (changed.size === 0) return;
    this.lastReevaluationMs = Date.now();
    const config = this.loaded.config;
    const enabled = this.checks();
    const reads = (check: Check) => [...check.needs, ...(check.customKinds?.(config) ?? []).map(customKindKey)];
    const checks = enabled.filter((check) => reads(check).some((kind) => changed.has(kind)));
    if (checks.length === 0) return;
    const evaluatedAt = this.deps.evaluationTime?.() ?? this.now();
    const snapshot = source.view(checkNeeds(checks, config), config, evaluatedAt);
    // A kind still waiting for its first list: the next cycle waits for it.
    if (!snapshot) return;
    const outcome = await runPartial({
      config,
      enabled,
      checks,
      snapshot,
      reuse: this.reuse,
      signal: this.stopController.signal,
      now: this.now,
      evaluationTime: this.deps.evaluationTime,
      onRequest: this.deps.onRequest,
    });
    // A full cycle that started meanwhile has a newer view; and a stopping daemon publishes nothing.
    if (this.running || this.stopController.signal.aborted) return;
    this.logChanges(await this.store.applyPartialInSlices(outcome, config));
    // The fold takes turns of the event loop: a cycle that started meanwhile publishes it with its own.
    if (this.running || this.stopController.signal.aborted) return;
    this.correlateResults(config, this.now().getTime());
    await this.publish({ type: 'partial', results: this.store.results(), incidents: this.correlation, cycle: this.store.lastCycle, intervalSeconds: this.intervalSeconds, checks: checks.map((c) => c.id) });
  }

  /** Groups the store's results into incidents (after a cycle and after a re-evaluation alike). */
  private correlateResults(config: LoadedConfig['config'], nowMs: number): void {
    const correlated = correlate(this.store.results(), this.incidentMemory, { nowMs, holdDownMs: config.incidents.holdDown * 1000 });
    this.incidentMemory = correlated.memory;
    this.correlation = correlated.correlation;
  }

  private logChanges(changes: StatusChange[]): void {
    for (const change of changes) {
      this.deps.log.info({ event: 'status_change', check: change.check, target: change.target, from: change.from ?? null, to: change.to ?? null }, change.summary);
    }
  }

  private async cycle(): Promise<CycleOutcome | undefined> {
    const { client, prober, log } = this.deps;
    const config = this.loaded.config;
    let outcome: CycleOutcome;
    try {
      outcome = await runCycle({
        client,
        source: this.deps.source,
        config,
        checks: this.checks(),
        prober,
        signal: this.stopController.signal,
        now: this.now,
        evaluationTime: this.deps.evaluationTime,
        onRequest: this.deps.onRequest,
      });
    } catch (error) {
      // runCycle catches per check; reaching here is a bug, and the daemon must keep serving.
      log.error({ err: error }, 'cycle failed');
      return undefined;
    }
    if (this.stopController.signal.aborted) return outcome;
    this.reuse = outcome.reuse;
    this.logChanges(await this.store.applyInSlices(outcome, config));
    const cycle = this.store.lastCycle!;
    this.correlateResults(config, cycle.completedAtMs);
    await this.publish({ type: 'cycle', results: this.store.results(), incidents: this.correlation, cycle, intervalSeconds: this.intervalSeconds });
    for (const failure of outcome.snapshot.failures()) {
      log.debug({ event: 'list_failed', kind: failure.kind, reason: failure.error.reason, code: failure.error.code }, failure.error.message);
    }
    if (log.isLevelEnabled('debug')) {
      const counts: Record<string, number> = {};
      for (const result of this.store.results()) counts[result.status] = (counts[result.status] ?? 0) + 1;
      log.debug({ event: 'cycle', durationMs: Math.round(outcome.durationMs), apiRequests: outcome.apiRequests, results: counts }, 'cycle complete');
    }
    return outcome;
  }

  /** How long ago the last cycle completed, when that is more than STALE_INTERVALS intervals. */
  staleForMs(): number | undefined {
    const last = this.store.lastCycle;
    if (!last) return undefined;
    const age = this.now().getTime() - last.completedAtMs;
    return age > STALE_INTERVALS * this.intervalSeconds * 1000 ? age : undefined;
  }

  start(): void {
    this.scheduler = new Scheduler(this.loaded.config.schedule, () => void this.runOnce(), this.deps.log);
    this.scheduler.start();
    void this.runOnce();
  }

  /** Swaps the config; the next cycle uses it. */
  async reload(next: LoadedConfig): Promise<void> {
    const scheduleChanged = next.config.schedule !== this.loaded.config.schedule;
    this.loaded = next;
    this.deps.client.setRequestTimeout(next.config.timeouts.requestMs);
    if (scheduleChanged) {
      this.intervalSeconds = scheduleIntervalSeconds(next.config.schedule);
      if (this.scheduler) {
        await this.scheduler.stop();
        this.scheduler = new Scheduler(next.config.schedule, () => void this.runOnce(), this.deps.log);
        this.scheduler.start();
      }
    }
  }

  /** Stops ticking and aborts the cycle in flight (its requests are cancelled), and the source's watches. */
  async stop(): Promise<void> {
    await this.scheduler?.stop();
    this.stopController.abort(new Error('rollout-doctor is stopping'));
    clearTimeout(this.reevaluation?.timer);
    await Promise.all([this.running?.catch(() => undefined), this.reevaluation?.running, this.deps.source.close()]);
  }
}
