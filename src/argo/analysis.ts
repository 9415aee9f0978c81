/**
 * AnalysisRuns read the way the Argo Rollouts analysis controller judges them (argoproj/argo-rollouts
 * analysis/analysis.go assessMetricStatus, assessMetricFailureInconclusiveOrError,
 * generateMetricTasks; pkg/apis/rollouts/v1alpha1/analysis_types.go; utils/defaults):
 *
 * - failed, inconclusive and error are totals over the run, not streaks; only consecutiveError is a
 *   streak (reset by any non-Error measurement).
 * - A metric is Failed when failed > failureLimit (default 0), Inconclusive when inconclusive >
 *   inconclusiveLimit (default 0), Error when consecutiveError > consecutiveErrorLimit (default 4).
 * - After an Error measurement the next one is taken after DefaultErrorRetryInterval (10 s), not after
 *   the metric's interval.
 * - An Inconclusive run pauses the Rollout (pause reason InconclusiveAnalysisRun); a Failed or Error
 *   run aborts it.
 *
 * Pure functions of the AnalysisRun object.
 */
import type { CustomObject, Rollout } from '../kube/types.js';
import { parseDuration } from '../config/duration.js';
import { compileRegexp, matchString } from '../expr/regexp.js';
import { isAtLeast } from './controller.js';
import { POD_TEMPLATE_HASH_LABEL, ROLLOUT_TYPE_LABEL, STEP_INDEX_LABEL } from './names.js';
import { listOf } from './rollout-info.js';

export const ANALYSIS_PHASES = ['Pending', 'Running', 'Successful', 'Failed', 'Error', 'Inconclusive'] as const;
export type AnalysisPhase = (typeof ANALYSIS_PHASES)[number];

/** utils/defaults DefaultConsecutiveErrorLimit. */
export const DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4;
/** analysis/analysis.go DefaultErrorRetryInterval: how soon an Error measurement is retried. */
export const ERROR_RETRY_INTERVAL_SECONDS = 10;

/** What the prometheus provider's Error says when a query returns an empty vector. */
const EMPTY_RESULT_PATTERNS = ['reflect: slice index out of range', 'metric result is nil or empty'];

/** The rollout-type label values and how a summary names them. */
export const RUN_TYPE_TEXT: Record<string, string> = {
  Step: 'step analysis',
  Background: 'background analysis',
  PrePromotion: 'pre-promotion analysis',
  PostPromotion: 'post-promotion analysis',
  Experiment: 'experiment analysis',
};

/** The type of a run an Experiment owns: it carries no rollout-type label (experiments/experiment.go). */
export const EXPERIMENT_RUN_TYPE = 'Experiment';

export interface MetricState {
  name: string;
  /** status.metricResults[].phase ('Pending' before the first measurement). */
  phase: string;
  count: number;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  consecutiveError: number;
  failureLimit: number;
  inconclusiveLimit: number;
  consecutiveErrorLimit: number;
  /** As written in the spec ("5m"; older controllers wrote seconds as a number). */
  interval?: string;
  intervalSeconds?: number;
  /** The count after which the metric is done (EffectiveCount: 1 without count and interval). */
  countLimit?: number;
  lastPhase?: string;
  lastValue?: string;
  lastMessage?: string;
  lastMeasuredAt?: string;
  /** The last value was NaN: for a rate ratio, zero requests in the window. */
  isLastValueNaN: boolean;
  /** An Error that is the prometheus provider's "empty result" (the query matched no series). */
  isEmptyResult: boolean;
  provider?: string;
  /** The resolved prometheus query (for the `or on() vector(0)` advice). */
  query?: string;
  isDryRun: boolean;
}

export interface RunState {
  name: string;
  namespace: string;
  /** rollout-type label: Step, Background, PrePromotion, PostPromotion ('' when absent); Experiment for an Experiment's run. */
  type: string;
  /** The Experiment that owns the run. */
  experiment?: string;
  stepIndex?: number;
  phase: string;
  message: string;
  createdAt?: string;
  startedAt?: string;
  metrics: MetricState[];
}

/** Go's intstr.IntOrString.IntValue(): a string that is not an integer reads 0. */
export function intOrStringValue(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number') return Math.trunc(value);
  if (typeof value === 'string') return /^[+-]?\d+$/.test(value) ? Number(value) : 0;
  return 0;
}

function intervalOf(value: unknown): { interval?: string; intervalSeconds?: number } {
  if (typeof value === 'number') return { interval: `${value}s`, intervalSeconds: value };
  if (typeof value !== 'string' || value === '') return {};
  const seconds = parseDuration(value);
  return seconds === undefined ? { interval: value } : { interval: value, intervalSeconds: seconds };
}

export function isEmptyResultMessage(message: string | undefined): boolean {
  return message !== undefined && EMPTY_RESULT_PATTERNS.some((pattern) => message.includes(pattern));
}

export function isNaNValue(value: string | undefined): boolean {
  return value !== undefined && /(^|[^A-Za-z])NaN([^A-Za-z]|$)/.test(value);
}

interface SpecMetric {
  name?: string;
  interval?: unknown;
  count?: unknown;
  failureLimit?: unknown;
  inconclusiveLimit?: unknown;
  consecutiveErrorLimit?: unknown;
  provider?: Record<string, { query?: string } | undefined>;
}

interface Measurement {
  phase?: string;
  value?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
}

interface MetricResult {
  name?: string;
  phase?: string;
  message?: string;
  count?: number;
  successful?: number;
  failed?: number;
  inconclusive?: number;
  error?: number;
  consecutiveError?: number;
  dryRun?: boolean;
  measurements?: Measurement[];
}

/** Metrics of an AnalysisRun (controllers before v0.6 kept them under spec.analysisSpec). */
function specMetrics(run: CustomObject): SpecMetric[] {
  const spec = (run.spec ?? {}) as { metrics?: SpecMetric[]; analysisSpec?: { metrics?: SpecMetric[] } };
  return listOf<SpecMetric>(spec.metrics ?? spec.analysisSpec?.metrics);
}

/**
 * The metrics a list of dryRun (or measurementRetention) rules selects (utils/analysis/helpers.go
 * GetDryRunMetrics, GetMeasurementRetentionMetrics, every version): each rule's metricName is a Go
 * regular expression matched unanchored with regexp.MatchString, whose error is discarded (an invalid
 * pattern such as a bare `*` matches nothing); a rule that matches no metric is an error, and the
 * run is Error: `Analysis spec invalid: dryRun[<i>]: Rule didn't match any metric name(s)`.
 */
export function selectMetrics(rules: readonly { metricName?: string }[], metricNames: readonly string[], field: 'dryRun' | 'measurementRetention' = 'dryRun'): { names: Set<string>; error?: string } {
  const names = new Set<string>();
  for (const [index, rule] of rules.entries()) {
    const re = compileRegexp(rule.metricName ?? '');
    const matched = typeof re === 'string' ? [] : metricNames.filter((name) => matchString(re, name));
    for (const name of matched) names.add(name);
    if (matched.length === 0) return { names, error: `${field}[${index}]: Rule didn't match any metric name(s)` };
  }
  return { names };
}

function metricState(spec: SpecMetric | undefined, result: MetricResult | undefined, name: string, dryRun: Set<string>): MetricState {
  const measurements = listOf<Measurement>(result?.measurements);
  const last = measurements[measurements.length - 1];
  const { interval, intervalSeconds } = intervalOf(spec?.interval);
  const countValue = intOrStringValue(spec?.count, 0);
  const countLimit = countValue === 0 ? (interval === undefined ? 1 : undefined) : countValue;
  const provider = Object.keys(spec?.provider ?? {})[0];
  const lastMessage = last?.message || result?.message || undefined;
  const state: MetricState = {
    name,
    phase: result?.phase || 'Pending',
    count: result?.count ?? 0,
    successful: result?.successful ?? 0,
    failed: result?.failed ?? 0,
    inconclusive: result?.inconclusive ?? 0,
    error: result?.error ?? 0,
    consecutiveError: result?.consecutiveError ?? 0,
    failureLimit: intOrStringValue(spec?.failureLimit, 0),
    inconclusiveLimit: intOrStringValue(spec?.inconclusiveLimit, 0),
    consecutiveErrorLimit: intOrStringValue(spec?.consecutiveErrorLimit, DEFAULT_CONSECUTIVE_ERROR_LIMIT),
    isLastValueNaN: isNaNValue(last?.value),
    isEmptyResult: measurements.some((m) => m.phase === 'Error' && isEmptyResultMessage(m.message)) || isEmptyResultMessage(result?.message),
    // The controller marks each result (analysis/analysis.go runMeasurements: DryRun); before the first, the rules say.
    isDryRun: result?.dryRun ?? dryRun.has(name),
  };
  if (interval !== undefined) state.interval = interval;
  if (intervalSeconds !== undefined) state.intervalSeconds = intervalSeconds;
  if (countLimit !== undefined) state.countLimit = countLimit;
  if (last?.phase) state.lastPhase = last.phase;
  if (last?.value !== undefined) state.lastValue = String(last.value);
  if (lastMessage) state.lastMessage = lastMessage;
  if (last?.finishedAt ?? last?.startedAt) state.lastMeasuredAt = last?.finishedAt ?? last?.startedAt;
  if (provider) state.provider = provider;
  const query = provider ? spec?.provider?.[provider]?.query : undefined;
  if (typeof query === 'string') state.query = query;
  return state;
}

export function analysisRunState(run: CustomObject, experiment?: string): RunState {
  const status = (run.status ?? {}) as { phase?: string; message?: string; startedAt?: string; metricResults?: MetricResult[] };
  const results = listOf<MetricResult>(status.metricResults);
  const specs = specMetrics(run);
  const names = [...new Set([...specs.map((m) => m.name ?? ''), ...results.map((r) => r.name ?? '')].filter(Boolean))];
  const dryRun = selectMetrics(listOf<{ metricName?: string }>(((run.spec ?? {}) as { dryRun?: unknown }).dryRun), names).names;
  const labels = run.metadata.labels ?? {};
  const stepIndex = labels[STEP_INDEX_LABEL];
  const state: RunState = {
    name: run.metadata.name ?? '',
    namespace: run.metadata.namespace ?? '',
    type: experiment === undefined ? (labels[ROLLOUT_TYPE_LABEL] ?? '') : EXPERIMENT_RUN_TYPE,
    phase: status.phase || 'Pending',
    message: status.message ?? '',
    metrics: names.map((name) => metricState(specs.find((m) => m.name === name), results.find((r) => r.name === name), name, dryRun)),
  };
  if (experiment !== undefined) state.experiment = experiment;
  if (stepIndex !== undefined && /^\d+$/.test(stepIndex)) state.stepIndex = Number(stepIndex);
  if (run.metadata.creationTimestamp) state.createdAt = run.metadata.creationTimestamp;
  if (status.startedAt) state.startedAt = status.startedAt;
  return state;
}

/** How many more inconclusive measurements turn the metric Inconclusive (inconclusive > limit). */
export function inconclusiveLeft(metric: MetricState): number {
  return Math.max(0, metric.inconclusiveLimit - metric.inconclusive + 1);
}

/** How many more consecutive Error measurements turn the metric Error (consecutiveError > limit). */
export function errorsLeft(metric: MetricState): number {
  return Math.max(0, metric.consecutiveErrorLimit - metric.consecutiveError + 1);
}

function isOwnedByRollout(run: CustomObject, rollout: Rollout): boolean {
  return listOf<{ kind?: string; uid?: string; name?: string }>(run.metadata.ownerReferences).some(
    (ref) => ref.kind === 'Rollout' && (rollout.metadata.uid ? ref.uid === rollout.metadata.uid : ref.name === rollout.metadata.name),
  );
}

/**
 * The AnalysisRuns of the Rollout's current revision: owned by it and labelled with its
 * currentPodHash. When a step or kind of analysis ran more than once (retry), only its newest run
 * counts.
 */
export function currentRevisionRuns(rollout: Rollout, runs: readonly CustomObject[]): CustomObject[] {
  const hash = rollout.status?.currentPodHash;
  if (!hash) return [];
  const mine = runs.filter(
    (run) => run.metadata.namespace === rollout.metadata.namespace && run.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === hash && isOwnedByRollout(run, rollout),
  );
  const newest = new Map<string, CustomObject>();
  const order = (run: CustomObject) => `${run.metadata.creationTimestamp ?? ''}\u0000${run.metadata.name ?? ''}`;
  for (const run of mine) {
    const labels = run.metadata.labels ?? {};
    const key = `${labels[ROLLOUT_TYPE_LABEL] ?? ''}/${labels[STEP_INDEX_LABEL] ?? ''}`;
    const seen = newest.get(key);
    if (!seen || order(run) > order(seen)) newest.set(key, run);
  }
  return [...newest.values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

/** The limits of a metric as the run spec writes them (int or string, as intstr.IntOrString). */
export interface LimitSpec {
  interval?: unknown;
  count?: unknown;
  failureLimit?: unknown;
  inconclusiveLimit?: unknown;
  consecutiveErrorLimit?: unknown;
  consecutiveSuccessLimit?: unknown;
}

export interface MetricLimits {
  failureLimit: number;
  /** failureLimit was written (metric.FailureLimit != nil). */
  hasFailureLimit: boolean;
  inconclusiveLimit: number;
  consecutiveErrorLimit: number;
  /** 0 when unset, and always before v1.8.0 (the field does not exist there). */
  consecutiveSuccessLimit: number;
  /** EffectiveCount (analysis_types.go): count, 1 without count and interval, undefined = unlimited. */
  count?: number;
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** The limits the controller of this version applies (utils/defaults, analysis_types.go EffectiveCount). */
export function metricLimits(spec: LimitSpec, controllerVersion: string): MetricLimits {
  const count = intOrStringValue(spec.count, 0);
  const hasInterval = isSet(spec.interval) && spec.interval !== '';
  const limits: MetricLimits = {
    failureLimit: intOrStringValue(spec.failureLimit, 0),
    hasFailureLimit: isSet(spec.failureLimit),
    inconclusiveLimit: intOrStringValue(spec.inconclusiveLimit, 0),
    consecutiveErrorLimit: intOrStringValue(spec.consecutiveErrorLimit, DEFAULT_CONSECUTIVE_ERROR_LIMIT),
    consecutiveSuccessLimit: isAtLeast(controllerVersion, '1.8.0') ? intOrStringValue(spec.consecutiveSuccessLimit, 0) : 0,
  };
  if (count !== 0) limits.count = count;
  else if (!hasInterval) limits.count = 1;
  return limits;
}

/**
 * utils/analysis/factory.go ValidateMetric's checks of limits, count and interval, by version (the
 * run is Error with `Analysis spec invalid: metrics[<i>]: <message>`): v1.7.2 rejects any negative
 * failureLimit; v1.8.0 allows -1 (disabled) only with a consecutiveSuccessLimit, and count must cover
 * failureLimit + consecutiveSuccessLimit.
 */
export function validateMetricLimits(spec: LimitSpec, controllerVersion: string): string | undefined {
  const count = intOrStringValue(spec.count, 0);
  const failureLimit = intOrStringValue(spec.failureLimit, 0);
  const inconclusiveLimit = intOrStringValue(spec.inconclusiveLimit, 0);
  const hasInterval = isSet(spec.interval) && spec.interval !== '';
  const errorLimitNegative = isSet(spec.consecutiveErrorLimit) && intOrStringValue(spec.consecutiveErrorLimit, 0) < 0;
  if (!isAtLeast(controllerVersion, '1.8.0')) {
    if (count > 0 && count < failureLimit) return 'count must be >= failureLimit';
    if (count > 0 && count < inconclusiveLimit) return 'count must be >= inconclusiveLimit';
    if (count > 1 && !hasInterval) return 'interval must be specified when count > 1';
    if (failureLimit < 0) return 'failureLimit must be >= 0';
    if (inconclusiveLimit < 0) return 'inconclusiveLimit must be >= 0';
    if (errorLimitNegative) return 'consecutiveErrorLimit must be >= 0';
    return undefined;
  }
  const successLimit = intOrStringValue(spec.consecutiveSuccessLimit, 0);
  if (successLimit < 0) return 'consecutiveSuccessLimit must be >= 0';
  if (failureLimit < -1) return 'failureLimit must be >= 0, or -1 to be disabled';
  if (successLimit === 0 && failureLimit === -1) return 'failureLimit and consecutiveSuccessLimit cannot both be disabled';
  if (inconclusiveLimit < 0) return 'inconclusiveLimit must be >= 0';
  if (errorLimitNegative) return 'consecutiveErrorLimit must be >= 0';
  if (count > 0) {
    if (failureLimit >= 0 && count < failureLimit + successLimit) {
      return `count (${count}) must be >= failureLimit + consecutiveSuccessLimit (${failureLimit} + ${successLimit}) if both >= 0`;
    }
    if (failureLimit < 0 && count < successLimit) return 'count must be >= consecutiveSuccessLimit';
    if (count < inconclusiveLimit) return 'count must be >= inconclusiveLimit';
  }
  if (count > 1 && !hasInterval) return 'interval must be specified when count > 1';
  return undefined;
}

export type MeasuredPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

export interface Prediction {
  /** The metric's phase once the run ends; Running: it never ends by itself (no count). */
  phase: MeasuredPhase | 'Running';
  /** Measurements taken until then (Error measurements included). */
  measurements: number;
  /** Why, in the words the controller logs or writes (`failed (2) > failureLimit (1)`). */
  reason: string;
}

/**
 * The metric's phase if every measurement came out `phase`, as analysis/analysis.go judges it after
 * each measurement (runMeasurements counters, assessMetricFailureInconclusiveOrError, then
 * assessMetricStatus): Failed when failed > failureLimit (v1.8.0+: only when failureLimit >= 0),
 * Inconclusive when inconclusive > inconclusiveLimit, Error when consecutiveError >
 * consecutiveErrorLimit (later checks win); v1.8.0+ Successful when consecutiveSuccess reaches
 * consecutiveSuccessLimit; at EffectiveCount (Error measurements do not count): v1.8.0+ Inconclusive
 * when both a failure limit and a consecutiveSuccessLimit apply, Failed when only the latter does,
 * else Successful.
 */
export function predictMetric(phase: MeasuredPhase, limits: MetricLimits, controllerVersion: string): Prediction {
  const isV18 = isAtLeast(controllerVersion, '1.8.0');
  const c = { count: 0, failed: 0, inconclusive: 0, consecutiveError: 0, consecutiveSuccess: 0 };
  // Past this many measurements every counter has either crossed its limit or stopped moving.
  const bound = Math.max(0, limits.failureLimit) + limits.inconclusiveLimit + limits.consecutiveErrorLimit + limits.consecutiveSuccessLimit + 2;
  for (let measurements = 1; measurements <= bound; measurements++) {
    if (phase === 'Error') c.consecutiveError++;
    else c.count++;
    if (phase === 'Failed') c.failed++;
    if (phase === 'Inconclusive') c.inconclusive++;
    c.consecutiveSuccess = phase === 'Successful' ? c.consecutiveSuccess + 1 : 0;
    let verdict: Prediction | undefined;
    if ((!isV18 || limits.failureLimit >= 0) && c.failed > limits.failureLimit) {
      verdict = { phase: 'Failed', measurements, reason: `failed (${c.failed}) > failureLimit (${limits.failureLimit})` };
    }
    if (c.inconclusive > limits.inconclusiveLimit) {
      verdict = { phase: 'Inconclusive', measurements, reason: `inconclusive (${c.inconclusive}) > inconclusiveLimit (${limits.inconclusiveLimit})` };
    }
    if (c.consecutiveError > limits.consecutiveErrorLimit) {
      verdict = { phase: 'Error', measurements, reason: `consecutiveErrors (${c.consecutiveError}) > consecutiveErrorLimit (${limits.consecutiveErrorLimit})` };
    }
    if (verdict) return verdict;
    if (limits.consecutiveSuccessLimit > 0 && c.consecutiveSuccess >= limits.consecutiveSuccessLimit) {
      return { phase: 'Successful', measurements, reason: `ConsecutiveSuccessLimit (${limits.consecutiveSuccessLimit}) Reached` };
    }
    if (limits.count !== undefined && c.count >= limits.count) return countReached(limits, measurements, isV18);
  }
  // Counters no longer move toward a limit: the run ends at its count, or never by itself.
  if (limits.count !== undefined) return countReached(limits, limits.count, isV18);
  return { phase: 'Running', measurements: bound, reason: 'no count: it keeps measuring until the run is terminated' };
}

function countReached(limits: MetricLimits, measurements: number, isV18: boolean): Prediction {
  const counted = `Count (${limits.count}) Reached`;
  if (!isV18) return { phase: 'Successful', measurements, reason: counted };
  const failureApplies = !limits.hasFailureLimit || limits.failureLimit >= 0;
  const successApplies = limits.consecutiveSuccessLimit > 0;
  if (failureApplies && successApplies) {
    return { phase: 'Inconclusive', measurements, reason: `ConsecutiveSuccessLimit (${limits.consecutiveSuccessLimit}) Not Reached and FailureLimit (${limits.failureLimit}) Not Violated` };
  }
  if (successApplies) return { phase: 'Failed', measurements, reason: `ConsecutiveSuccessLimit (${limits.consecutiveSuccessLimit}) Not Reached` };
  return { phase: 'Successful', measurements, reason: counted };
}
