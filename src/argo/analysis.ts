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
};

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
  /** rollout-type label: Step, Background, PrePromotion, PostPromotion ('' when absent). */
  type: string;
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
  measurements?: Measurement[];
}

/** Metrics of an AnalysisRun (controllers before v0.6 kept them under spec.analysisSpec). */
function specMetrics(run: CustomObject): SpecMetric[] {
  const spec = (run.spec ?? {}) as { metrics?: SpecMetric[]; analysisSpec?: { metrics?: SpecMetric[] } };
  return listOf<SpecMetric>(spec.metrics ?? spec.analysisSpec?.metrics);
}

function dryRunNames(run: CustomObject): Set<string> {
  const dryRun = listOf<{ metricName?: string }>(((run.spec ?? {}) as { dryRun?: unknown }).dryRun);
  return new Set(dryRun.map((d) => d.metricName ?? '').filter(Boolean));
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
    isDryRun: dryRun.has(name) || dryRun.has('*'),
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

export function analysisRunState(run: CustomObject): RunState {
  const status = (run.status ?? {}) as { phase?: string; message?: string; startedAt?: string; metricResults?: MetricResult[] };
  const results = listOf<MetricResult>(status.metricResults);
  const dryRun = dryRunNames(run);
  const specs = specMetrics(run);
  const names = [...new Set([...specs.map((m) => m.name ?? ''), ...results.map((r) => r.name ?? '')].filter(Boolean))];
  const labels = run.metadata.labels ?? {};
  const stepIndex = labels[STEP_INDEX_LABEL];
  const state: RunState = {
    name: run.metadata.name ?? '',
    namespace: run.metadata.namespace ?? '',
    type: labels[ROLLOUT_TYPE_LABEL] ?? '',
    phase: status.phase || 'Pending',
    message: status.message ?? '',
    metrics: names.map((name) => metricState(specs.find((m) => m.name === name), results.find((r) => r.name === name), name, dryRun)),
  };
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
