/**
 * One cycle: a snapshot of the cluster, then every enabled check concurrently on it, each under its
 * own deadline. Nothing a check does escapes: a throw, a timeout or malformed output becomes an
 * error the store turns into `unknown` with the reason. The runner times the checks; checks never
 * time themselves.
 */
import { setMaxListeners } from 'node:events';
import { nextSlice } from '../slices.js';
import type { Config } from '../config/schema.js';
import { DeadlineExceeded, type KubeClient, type RequestObserver } from '../kube/client.js';
import { type ApiErrorDetails, apiErrorDetails, isKubeError, kubeErrorOf } from '../kube/errors.js';
import type { TargetedRead } from '../kube/permissions.js';
import { CycleReads } from '../kube/reads.js';
import { type CustomKindRef, customKindKey, type KindName, ListSnapshot, type Snapshot, type SnapshotSource, type WatchFallback } from '../kube/snapshot.js';
import type { Prober } from '../probe/http.js';
import { ProbeMemo } from '../probe/memo.js';
import { type ApiContext, apiErrorRemediation } from './api-remediation.js';
import { type RemediationStep, renderStep } from './remediation.js';
import { type Check, type CheckResult, type Explanation, STATUSES } from './types.js';

/** Why a check produced no results, as the store shows it on each target the check knew. */
export interface RunFailure {
  summary: string;
  remediation: string[];
  /** `reason`, and `apiError` when an API call failed, `blockedBy` when another result explains it. */
  details: Record<string, unknown>;
}

export interface CheckRun {
  check: Check;
  results: ValidatedResult[];
  durationMs: number;
  /** Set when the check could not produce results (throw, timeout, discovery list failed). */
  error?: RunFailure;
}

export interface CycleOutcome {
  startedAt: Date;
  durationMs: number;
  apiRequests: number;
  runs: CheckRun[];
  snapshot: Snapshot;
  /** What the re-evaluations until the next cycle reuse. */
  reuse?: CycleReuse;
  /** Kinds listed every cycle because watching them is forbidden. */
  watchFallbacks?: WatchFallback[];
}

export interface CycleDeps {
  client: KubeClient;
  /** Where the cycle's snapshot comes from (lists, or the cache). */
  source: SnapshotSource;
  config: Config;
  checks: readonly Check[];
  prober: Prober;
  /** The daemon's stop signal. */
  signal: AbortSignal;
  /** Wall clock (cycle timing, `since`). */
  now: () => Date;
  /** The time checks evaluate at; fixed in simulations with --simulate-now, else the wall clock. */
  evaluationTime?: () => Date;
  /** Called for every Kubernetes request (metrics). */
  onRequest?: RequestObserver;
}

export function enabledChecks(all: readonly Check[], config: Config, only?: readonly string[]): Check[] {
  return all.filter((check) => {
    const toggle = (config.checks as Record<string, { enabled: boolean } | undefined>)[check.id];
    if (toggle && !toggle.enabled) return false;
    return !only || only.length === 0 || only.includes(check.id);
  });
}

/** The union of what these checks need from the cluster. */
export function checkNeeds(checks: readonly Check[], config: Config): { kinds: KindName[]; customKinds: CustomKindRef[]; reads: TargetedRead[] } {
  const kinds = new Set<KindName>();
  const customKinds = new Map<string, CustomKindRef>();
  const reads = new Set<TargetedRead>();
  for (const check of checks) {
    for (const kind of check.needs) kinds.add(kind);
    for (const ref of check.customKinds?.(config) ?? []) customKinds.set(customKindKey(ref), ref);
    for (const read of check.reads ?? []) reads.add(read);
  }
  return { kinds: [...kinds], customKinds: [...customKinds.values()], reads: [...reads] };
}

/** An AbortController that fires on the parent signal or after `ms`, and cleans up after itself. */
export function deadline(parent: AbortSignal, ms: number, what: string): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  // Every request of the cycle listens on this signal; dozens at once are expected, not a leak.
  setMaxListeners(0, controller.signal);
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new DeadlineExceeded(`${what} deadline of ${ms} ms reached`)), ms);
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onAbort);
    },
  };
}

function reasonOf(error: unknown): string {
  if (isKubeError(error)) return error.message;
  if (error instanceof DeadlineExceeded) return error.message;
  if (error instanceof Error) return `check failed: ${error.message}`;
  return `check failed: ${String(error)}`;
}

/** Rejects on abort, so a check that ignores its signal still ends at its deadline. */
function untilAborted(signal: AbortSignal): { promise: Promise<never>; dispose(): void } {
  let onAbort: () => void = () => undefined;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new DeadlineExceeded('aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => undefined);
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/** What the runner keeps of a check's result: its own output, checked at runtime, the remediation rendered. */
export type ValidatedResult = Omit<CheckResult<Record<string, unknown>>, 'remediation'> & { remediation: string[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isWords(value: unknown): boolean {
  return Array.isArray(value) && value.every((w) => typeof w === 'string' || (isRecord(w) && typeof w.shell === 'string'));
}

function isCommand(value: unknown): boolean {
  return isRecord(value) && value.kind === 'command' && isWords(value.argv) && (value.pipe === undefined || isWords(value.pipe)) && (value.comment === undefined || typeof value.comment === 'string');
}

function isStep(value: unknown): value is RemediationStep {
  if (isCommand(value)) return true;
  return isRecord(value) && value.kind === 'text' && Array.isArray(value.parts) && value.parts.every((p) => typeof p === 'string' || isCommand(p));
}

function renderRemediation(check: Check, steps: unknown, context: string | undefined): string[] {
  if (steps === undefined) return [];
  if (!Array.isArray(steps) || !steps.every(isStep)) throw new Error(`${check.id} returned a malformed remediation`);
  return steps.map((step) => renderStep(step, { kubectlContext: context }));
}

function isApiError(value: unknown): value is ApiErrorDetails {
  return isRecord(value) && typeof value.reason === 'string' && typeof value.verb === 'string' && typeof value.resource === 'string';
}

/** Why a check threw, and what to do about it: the API error's remedy, a deadline's, or a bug's. */
function failureOf(error: unknown, api: ApiContext): RunFailure {
  const reason = reasonOf(error);
  const kubeError = kubeErrorOf(error);
  if (kubeError) {
    const apiError = apiErrorDetails(kubeError);
    return { summary: reason, remediation: apiErrorRemediation(api, apiError).map((step) => renderStep(step, { kubectlContext: api.kubectlContext })), details: { reason, apiError } };
  }
  const remediation =
    error instanceof DeadlineExceeded
      ? 'The check ran out of time and runs again next cycle; if this repeats, raise timeouts.checkMs and timeouts.cycleMs in the config, or find the slow call with LOG_LEVEL=debug'
      : 'rollout-doctor failed in this check (a bug, not your cluster): please report it with this summary';
  return { summary: reason, remediation: [remediation], details: { reason } };
}

/** A check is code we run, not code we trust: its output is checked as data. */
function validate(check: Check, output: unknown, api: ApiContext): ValidatedResult[] {
  const context = api.kubectlContext;
  if (!Array.isArray(output)) throw new Error(`${check.id} returned ${typeof output}, not a list of results`);
  const seen = new Set<string>();
  const results: ValidatedResult[] = [];
  for (const item of output as unknown[]) {
    const status = isRecord(item) ? STATUSES.find((s) => s === item.status) : undefined;
    if (!isRecord(item) || typeof item.target !== 'string' || !status) throw new Error(`${check.id} returned a malformed result`);
    if (seen.has(item.target)) continue;
    seen.add(item.target);
    const details = isRecord(item.details) ? item.details : {};
    let remediation = renderRemediation(check, item.remediation, context);
    // An unknown result left by a failed API call says what to do about the call (api-remediation.ts).
    if (status !== 'ok' && remediation.length === 0 && isApiError(details.apiError)) {
      remediation = apiErrorRemediation(api, details.apiError).map((step) => renderStep(step, { kubectlContext: context }));
    }
    const result: ValidatedResult = { target: item.target, status, summary: String(item.summary ?? ''), remediation, details };
    if (typeof item.rollout === 'string') result.rollout = item.rollout;
    results.push(result);
  }
  return results;
}

interface CheckRunner {
  config: Config;
  /** Every check enabled (the context's `checks`), whichever run. */
  enabled: readonly Check[];
  reads: CycleReads;
  prober: Prober;
  signal: AbortSignal;
  evaluatedAt: Date;
  api: ApiContext;
}

function runner({ config, enabled, reads, prober, signal, evaluatedAt, api }: CheckRunner): (check: Check, snapshot: Snapshot) => Promise<CheckRun> {
  return async (check, snapshot) => {
    // A check evaluates synchronously over everything it reads (all Rollouts): each starts on a fresh
    // slice (src/slices.ts), so /health and /metrics answer between two checks, not after all of them.
    await nextSlice();
    const checkStarted = performance.now();
    const checkDeadline = deadline(signal, config.timeouts.checkMs, `check ${check.id}`);
    const abort = untilAborted(checkDeadline.signal);
    try {
      const output = await Promise.race([
        check.run({ config, snapshot, kube: reads.forCheck(checkDeadline.signal), http: prober, signal: checkDeadline.signal, now: evaluatedAt, checks: enabled, api: api.api }),
        abort.promise,
      ]);
      return { check, results: validate(check, output, api), durationMs: performance.now() - checkStarted };
    } catch (error) {
      return { check, results: [], durationMs: performance.now() - checkStarted, error: failureOf(error, api) };
    } finally {
      abort.dispose();
      checkDeadline.dispose();
    }
  };
}

/** What a full cycle read besides the snapshot, for the re-evaluations until the next one to reuse. */
export interface CycleReuse {
  reads: CycleReads;
  probes: ProbeMemo;
  api: ApiContext;
}

export async function runCycle(deps: CycleDeps): Promise<CycleOutcome> {
  const { client, config, checks } = deps;
  const startedAt = deps.now();
  const started = performance.now();
  let apiRequests = 0;
  const onRequest: RequestObserver = (record) => {
    apiRequests++;
    deps.onRequest?.(record);
  };
  const cycle = deadline(deps.signal, config.timeouts.cycleMs, 'cycle');
  try {
    const evaluatedAt = deps.evaluationTime?.() ?? startedAt;
    const api: ApiContext = { api: client.identity, kubectlContext: config.kubectlContext };
    const reuse: CycleReuse = { reads: new CycleReads(client, onRequest), probes: new ProbeMemo(deps.prober), api };
    const run = runner({ config, enabled: checks, reads: reuse.reads, prober: reuse.probes, signal: cycle.signal, evaluatedAt, api });
    // Checks that read nothing from the snapshot (self-rbac's reviews, endpoint probes) start at once,
    // so their round trips overlap the lists instead of following them.
    const isIndependent = (check: Check) => check.needs.length === 0 && (check.customKinds?.(config) ?? []).length === 0;
    const early = new Map(checks.filter(isIndependent).map((check) => [check, run(check, new ListSnapshot(evaluatedAt, new Map()))]));
    const snapshot = await deps.source.snapshot(checkNeeds(checks, config), config, { signal: cycle.signal, onRequest }, evaluatedAt);
    const runs = pointAtExplanations(await Promise.all(checks.map((check) => early.get(check) ?? run(check, snapshot))));
    return { startedAt, durationMs: performance.now() - started, apiRequests, runs, snapshot, reuse, watchFallbacks: deps.source.watchFallbacks() };
  } finally {
    cycle.dispose();
  }
}

export interface PartialDeps {
  config: Config;
  /** Every enabled check; `checks` are those that run again. */
  enabled: readonly Check[];
  checks: readonly Check[];
  snapshot: Snapshot;
  /** The last full cycle's reads and probes. */
  reuse: CycleReuse;
  signal: AbortSignal;
  now: () => Date;
  evaluationTime?: () => Date;
  onRequest?: RequestObserver;
}

export interface PartialOutcome {
  startedAt: Date;
  durationMs: number;
  runs: CheckRun[];
}

/**
 * Some checks again on a view of the cache between cycles, with the last full cycle's targeted
 * reads and probes (a read or probe that cycle did not make is made).
 */
export async function runPartial(deps: PartialDeps): Promise<PartialOutcome> {
  const { config } = deps;
  const startedAt = deps.now();
  const started = performance.now();
  const cycle = deadline(deps.signal, config.timeouts.cycleMs, 'cycle');
  try {
    const run = runner({
      config,
      enabled: deps.enabled,
      reads: deps.reuse.reads.reuse((record) => deps.onRequest?.(record)),
      prober: deps.reuse.probes.replay(),
      signal: cycle.signal,
      evaluatedAt: deps.evaluationTime?.() ?? startedAt,
      api: deps.reuse.api,
    });
    const runs = await Promise.all(deps.checks.map((check) => run(check, deps.snapshot)));
    return { startedAt, durationMs: performance.now() - started, runs };
  } finally {
    cycle.dispose();
  }
}

/**
 * One cause, one result: when a result explains a cause of the cycle's API errors (kube-api: the API
 * is unreachable or refuses our credentials; self-rbac: no permission at all), the other checks'
 * `unknown` results and failures with that cause point at it instead of repeating its reason and
 * remediation. Results the checks could evaluate stay as they are.
 */
export function pointAtExplanations(runs: readonly CheckRun[]): CheckRun[] {
  const byReason = new Map<string, { check: string; explanation: Explanation }>();
  for (const run of runs) {
    for (const result of run.results) {
      const explanation = run.check.explains?.(result);
      for (const reason of explanation?.reasons ?? []) if (!byReason.has(reason)) byReason.set(reason, { check: run.check.id, explanation: explanation! });
    }
  }
  if (byReason.size === 0) return [...runs];
  const explainerOf = (check: string, details: Record<string, unknown>) => {
    const found = isApiError(details.apiError) ? byReason.get(details.apiError.reason) : undefined;
    return found && found.check !== check ? found : undefined;
  };
  const pointer = (by: { check: string; explanation: Explanation }, details: Record<string, unknown>): RunFailure => ({
    summary: `not checked: ${by.explanation.cause} (see ${by.check})`,
    remediation: [`Fix what ${by.check} reports first; this is checked again next cycle`],
    details: { ...details, blockedBy: by.check },
  });
  return runs.map((run) => {
    if (run.error) {
      const by = explainerOf(run.check.id, run.error.details);
      return by ? { ...run, error: pointer(by, run.error.details) } : run;
    }
    const results = run.results.map((result) => {
      const by = result.status === 'unknown' ? explainerOf(run.check.id, result.details) : undefined;
      return by ? { ...result, ...pointer(by, result.details) } : result;
    });
    return { ...run, results };
  });
}
