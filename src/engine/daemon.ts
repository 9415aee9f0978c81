/**
 * The daemon's state machine: runs cycles (never two at once), keeps the store, renders /metrics and
 * /health once per cycle, logs status changes, and reports staleness when cycles stop completing.
 * HTTP handlers only read what it has prepared; a request never starts a cycle.
 */
import type { LoadedConfig } from '../config/load.js';
import type { KubeClient } from '../kube/client.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import type { Prober } from '../probe/http.js';
import { buildHealth, type HealthFilter, RenderedHealth } from '../http/health-view.js';
import { type CycleOutcome, enabledChecks, runCycle } from './runner.js';
import { scheduleIntervalSeconds, Scheduler } from './scheduler.js';
import { ResultStore } from './store.js';
import type { Check } from './types.js';

export interface DaemonDeps {
  client: KubeClient;
  checks: readonly Check[];
  config: LoadedConfig;
  prober: Prober;
  metrics: Metrics;
  log: Logger;
  /** Only these check ids (the `check --check ID` flag). */
  only?: readonly string[];
  /** Fixed evaluation time for simulations. */
  evaluationTime?: () => Date;
  /** Wall clock; tests replace it to exercise staleness. */
  now?: () => Date;
}

/** Staleness: no completed cycle for this many schedule intervals. */
export const STALE_INTERVALS = 3;

export class Daemon {
  readonly store = new ResultStore();
  private loaded: LoadedConfig;
  private intervalSeconds: number;
  private running?: Promise<CycleOutcome | undefined>;
  private readonly stopController = new AbortController();
  private scheduler?: Scheduler;
  private rendered?: RenderedHealth;
  /** The stale document, per whole second of age (its summaries say the age in seconds). */
  private renderedStale?: { ageSeconds: number; rendered: RenderedHealth };
  private readonly now: () => Date;

  constructor(private readonly deps: DaemonDeps) {
    this.loaded = deps.config;
    this.intervalSeconds = scheduleIntervalSeconds(deps.config.config.schedule);
    this.now = deps.now ?? (() => new Date());
    deps.metrics.setInterval(this.intervalSeconds);
  }

  get config(): LoadedConfig {
    return this.loaded;
  }

  get isReady(): boolean {
    return this.store.lastCycle !== undefined;
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
      this.deps.metrics.recordSkip();
      this.deps.log.warn({ event: 'cycle_skipped' }, 'previous cycle still running; tick skipped');
      await this.deps.metrics.render(this.store.results());
      return undefined;
    }
    this.running = this.cycle();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  private async cycle(): Promise<CycleOutcome | undefined> {
    const { client, prober, metrics, log } = this.deps;
    const config = this.loaded.config;
    let outcome: CycleOutcome;
    try {
      outcome = await runCycle({
        client,
        config,
        checks: this.checks(),
        prober,
        signal: this.stopController.signal,
        now: this.now,
        evaluationTime: this.deps.evaluationTime,
        onRequest: (record) => metrics.recordRequest(record),
      });
    } catch (error) {
      // runCycle catches per check; reaching here is a bug, and the daemon must keep serving.
      log.error({ err: error }, 'cycle failed');
      return undefined;
    }
    if (this.stopController.signal.aborted) return outcome;
    const changes = this.store.apply(outcome, config);
    for (const change of changes) {
      log.info({ event: 'status_change', check: change.check, target: change.target, from: change.from ?? null, to: change.to ?? null }, change.summary);
    }
    const lastCycle = this.store.lastCycle!;
    metrics.recordCycle(outcome.durationMs, lastCycle.completedAtMs);
    await metrics.render(this.store.results());
    this.rendered = new RenderedHealth(buildHealth(this.store.results(), this.store.lastCycle));
    this.rendered.encodedJson();
    this.rendered.encodedText();
    this.renderedStale = undefined;
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

  /**
   * The unfiltered document is built and encoded once per cycle (and once per second of age while
   * stale); filtered ones, small by nature, on demand.
   */
  health(filter: HealthFilter = {}): RenderedHealth {
    const staleForMs = this.staleForMs();
    const isFiltered = Boolean(filter.check || filter.target);
    if (isFiltered) return new RenderedHealth(buildHealth(this.store.results(), this.store.lastCycle, filter, { staleForMs }));
    if (staleForMs === undefined) return (this.rendered ??= new RenderedHealth(buildHealth(this.store.results(), this.store.lastCycle)));
    const ageSeconds = Math.round(staleForMs / 1000);
    if (this.renderedStale?.ageSeconds !== ageSeconds) {
      this.renderedStale = { ageSeconds, rendered: new RenderedHealth(buildHealth(this.store.results(), this.store.lastCycle, {}, { staleForMs: ageSeconds * 1000 })) };
    }
    return this.renderedStale.rendered;
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
    this.rendered = undefined;
    if (scheduleChanged) {
      this.intervalSeconds = scheduleIntervalSeconds(next.config.schedule);
      this.deps.metrics.setInterval(this.intervalSeconds);
      if (this.scheduler) {
        await this.scheduler.stop();
        this.scheduler = new Scheduler(next.config.schedule, () => void this.runOnce(), this.deps.log);
        this.scheduler.start();
      }
    }
  }

  /** Stops ticking and aborts the cycle in flight (its requests are cancelled). */
  async stop(): Promise<void> {
    await this.scheduler?.stop();
    this.stopController.abort(new Error('rollout-doctor is stopping'));
    await this.running?.catch(() => undefined);
  }
}
