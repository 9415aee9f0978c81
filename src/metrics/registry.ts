/**
 * Results become Prometheus series here, in our own prom-client Registry (no global registry). The
 * exposition is rendered once per cycle and served from memory, so a scrape never costs a cycle's
 * worth of work. Per-check gauges are rebuilt from the store each render, so the series of a target
 * that disappeared disappear with it (gatus leaves them behind; we do not).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EncodedBody } from '../http/encoded.js';
import type { RequestRecord } from '../kube/client.js';
import { type Check, type MetricFamily, STATUSES, type StoredResult } from '../engine/types.js';

/** prom-client gauges whose `_total` suffix promtool rejects (they are not counters). */
const REJECTED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export const CYCLE_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface FamilyGauge {
  checkId: string;
  family: MetricFamily;
  gauge: Gauge<string>;
}

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
  private exposition = '';
  private encoded = new EncodedBody('');

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
  private readonly checkStatus = new Gauge({
    name: 'rollout_doctor_check_status',
    help: 'Result of a check for a target, one series per status (ok, warn, fail, unknown); the current one is 1.',
    labelNames: ['check', 'target', 'status'] as const,
    registers: [this.registry],
  });
  private readonly checkDuration = new Gauge({
    name: 'rollout_doctor_check_duration_seconds',
    help: 'Run time of the check that produced this result, in its last cycle.',
    labelNames: ['check', 'target'] as const,
    registers: [this.registry],
  });
  private readonly checkLastRun = new Gauge({
    name: 'rollout_doctor_check_last_run_timestamp_seconds',
    help: 'Unix time of the cycle that produced this result.',
    labelNames: ['check', 'target'] as const,
    registers: [this.registry],
  });
  private readonly checkMuted = new Gauge({
    name: 'rollout_doctor_check_muted',
    help: '1 when the result is muted by the config (alert rules skip it), else 0.',
    labelNames: ['check', 'target'] as const,
    registers: [this.registry],
  });
  private readonly families: FamilyGauge[] = [];

  constructor(options: MetricsOptions) {
    if (options.processMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of REJECTED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
    this.buildInfo.set({ version: options.version }, 1);
    this.interval.set(options.intervalSeconds);
    this.cycles.inc(0);
    this.cyclesSkipped.inc(0);
    for (const result of ['success', 'failure'] as const) this.configReloads.inc({ result }, 0);
    const names = new Set<string>(this.registry.getMetricsAsArray().map((m) => m.name));
    for (const check of options.checks) {
      for (const family of check.metrics ?? []) {
        if (names.has(family.name)) throw new Error(`metric ${family.name} of check ${check.id} is already registered`);
        names.add(family.name);
        this.families.push({
          checkId: check.id,
          family,
          gauge: new Gauge({ name: family.name, help: family.help, labelNames: [...family.labelNames], registers: [this.registry] }),
        });
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

  /** Rebuilds the per-result series from the store and renders the exposition text. */
  async render(results: readonly StoredResult[]): Promise<void> {
    this.checkStatus.reset();
    this.checkDuration.reset();
    this.checkLastRun.reset();
    this.checkMuted.reset();
    for (const { gauge } of this.families) gauge.reset();
    const familiesByCheck = new Map<string, FamilyGauge[]>();
    for (const entry of this.families) {
      const list = familiesByCheck.get(entry.checkId) ?? [];
      list.push(entry);
      familiesByCheck.set(entry.checkId, list);
    }
    for (const result of results) {
      const labels = { check: result.check, target: result.target };
      for (const status of STATUSES) this.checkStatus.set({ ...labels, status }, result.status === status ? 1 : 0);
      this.checkDuration.set(labels, result.durationMs / 1000);
      this.checkLastRun.set(labels, result.checkedAtMs / 1000);
      this.checkMuted.set(labels, result.muted ? 1 : 0);
      for (const { family, gauge } of familiesByCheck.get(result.check) ?? []) {
        for (const sample of family.collect(result)) gauge.set(sample.labels, sample.value);
      }
    }
    this.exposition = await this.registry.metrics();
    this.encoded = new EncodedBody(this.exposition);
  }

  /** The exposition of the last render. */
  text(): string {
    return this.exposition;
  }

  /** The same, as bytes (and gzip) for /metrics. */
  body(): EncodedBody {
    return this.encoded;
  }
}
