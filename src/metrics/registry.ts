/**
 * Results become Prometheus series here, in our own prom-client Registry (no global registry). The
 * exposition is rendered once per cycle and served from memory, so a scrape never costs a cycle's
 * worth of work. The per-result series (./exposition.ts) are written from the store each render, so
 * the series of a target that disappeared disappear with it (gatus leaves them behind; we do not).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BodyBuilder, EncodedBody } from '../encoded-body.js';
import type { RequestRecord } from '../kube/client.js';
import type { DaemonEvent } from '../engine/daemon.js';
import type { Check, StoredResult } from '../engine/types.js';
import type { Correlation } from '../incidents/correlate.js';
import { type FamilySource, RESULT_FAMILY_HELP, renderResultFamiliesInSteps } from './exposition.js';

/** prom-client gauges whose `_total` suffix promtool rejects (they are not counters). */
const REJECTED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export const CYCLE_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface MetricsOptions {
  checks: readonly Check[];
  version: string;
  intervalSeconds: number;
  /** Process metrics (CPU, RSS, event-loop lag); off in tests that compare expositions. */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  private encoded = EncodedBody.of('');
  /** Renders started, so that only the last one started is kept. */
  private renders = 0;

  private readonly kubeRequests = new Counter({
    name: 'rollout_doctor_kube_requests_total',
    help: 'Requests to the Kubernetes API by verb, resource and answer code (HTTP status, or timeout, aborted, connection_error, tls_error, invalid_response).',
    labelNames: ['verb', 'resource', 'code'] as const,
    registers: [this.registry],
  });
  private readonly cycles = new Counter({
    name: 'rollout_doctor_cycles_total',
    help: 'Completed check cycles.',
    registers: [this.registry],
  });
  private readonly cyclesSkipped = new Counter({
    name: 'rollout_doctor_cycles_skipped_total',
    help: 'Scheduled cycles skipped because the previous one was still running.',
    registers: [this.registry],
  });
  private readonly reevaluations = new Counter({
    name: 'rollout_doctor_reevaluations_total',
    help: 'Re-evaluations between cycles: the checks that read a kind that changed in the cache, run again on it.',
    registers: [this.registry],
  });
  private readonly cycleDuration = new Histogram({
    name: 'rollout_doctor_cycle_duration_seconds',
    help: 'Duration of a check cycle (snapshot and checks).',
    buckets: CYCLE_DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly lastCycle = new Gauge({
    name: 'rollout_doctor_last_cycle_timestamp_seconds',
    help: 'Unix time the last check cycle completed.',
    registers: [this.registry],
  });
  private readonly interval = new Gauge({
    name: 'rollout_doctor_cycle_interval_seconds',
    help: 'Longest interval between two scheduled cycles; staleness alerts compare the last cycle age with it.',
    registers: [this.registry],
  });
  private readonly buildInfo = new Gauge({
    name: 'rollout_doctor_build_info',
    help: 'Always 1; the version label says which rollout-doctor runs.',
    labelNames: ['version'] as const,
    registers: [this.registry],
  });
  private readonly configReloads = new Counter({
    name: 'rollout_doctor_config_reloads_total',
    help: 'Config reloads (SIGHUP or file change) by result: success or failure (the old config keeps running).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly families: FamilySource[] = [];

  constructor(options: MetricsOptions) {
    if (options.processMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of REJECTED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
    this.buildInfo.set({ version: options.version }, 1);
    this.interval.set(options.intervalSeconds);
    this.cycles.inc(0);
    this.cyclesSkipped.inc(0);
    this.reevaluations.inc(0);
    for (const result of ['success', 'failure'] as const) this.configReloads.inc({ result }, 0);
    const names = new Set<string>([...this.registry.getMetricsAsArray().map((m) => m.name), ...Object.keys(RESULT_FAMILY_HELP)]);
    for (const check of options.checks) {
      for (const family of check.metrics ?? []) {
        if (names.has(family.name)) throw new Error(`metric ${family.name} of check ${check.id} is already registered`);
        names.add(family.name);
        this.families.push({ checkId: check.id, family });
      }
    }
  }

  recordRequest(record: RequestRecord): void {
    this.kubeRequests.inc({ verb: record.verb, resource: record.resource, code: record.code });
  }

  recordCycle(durationMs: number, completedAtMs: number): void {
    this.cycles.inc();
    this.cycleDuration.observe(durationMs / 1000);
    this.lastCycle.set(completedAtMs / 1000);
  }

  recordSkip(): void {
    this.cyclesSkipped.inc();
  }

  recordReload(isSuccess: boolean): void {
    this.configReloads.inc({ result: isSuccess ? 'success' : 'failure' });
  }

  setInterval(seconds: number): void {
    this.interval.set(seconds);
  }

  /** Takes what the daemon published (main.ts subscribes it): counts the cycle, re-evaluation or skip, then renders. */
  async update(event: DaemonEvent): Promise<void> {
    this.setInterval(event.intervalSeconds);
    if (event.type === 'cycle') this.recordCycle(event.cycle.durationMs, event.cycle.completedAtMs);
    else if (event.type === 'partial') this.reevaluations.inc();
    else this.recordSkip();
    await this.render(event.results, event.incidents);
  }

  /**
   * Renders the exposition: prom-client's metrics, then the per-result and incident series, in
   * steps (/metrics serves the previous render meanwhile, until the new one's gzip is ready too).
   */
  async render(results: readonly StoredResult[], correlation: Correlation): Promise<void> {
    // A re-evaluation's render can still be under way when a cycle's starts: the later one wins.
    const render = ++this.renders;
    const builder = new BodyBuilder({ gzipWhileWriting: true });
    await builder.fill(async (write) => {
      write(await this.registry.metrics());
      await renderResultFamiliesInSteps(results, correlation, this.families, write);
    });
    if (render !== this.renders) {
      builder.discard();
      return;
    }
    const encoded = builder.finish();
    await encoded.ready;
    if (render !== this.renders || !encoded.isComplete) return;
    this.encoded = encoded;
  }

  /** The exposition of the last render, as text (decoded from the bytes /metrics serves; tests). */
  text(): string {
    return this.encoded.text();
  }

  /** The same, as bytes (the gzip) for /metrics. */
  body(): EncodedBody {
    return this.encoded;
  }
}
