/**
 * The per-result series, written straight into Prometheus text exposition format.
 *
 * Why not prom-client gauges: every cycle replaces every per-result series (a vanished target must
 * vanish), and at 1,000 rollouts that is ~100,000 series. Resetting and re-filling prom-client
 * gauges (label hashing per set) and rendering them allocated ~414 MB per cycle, 72 % of the
 * daemon's allocations (npm run bench, sampling heap profile), and held ~45 MB of label maps between
 * cycles. The series are a pure function of the store, so they are written once, here, with the
 * format's escaping rules; prom-client keeps the process and daemon metrics it is made for.
 */
import { runInSlices } from '../slices.js';
import { type MetricFamily, type StoredResult } from '../engine/types.js';
import type { Correlation } from '../incidents/correlate.js';

function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** The families every result gets, whatever its check: written by `renderResultFamilies` directly. */
export const RESULT_FAMILY_HELP: Readonly<Record<string, string>> = {
  rollout_doctor_check_status: 'Result of a check for a target: 1 on the series of its current status (ok, warn, fail or unknown); the other statuses have no series.',
  rollout_doctor_check_duration_seconds: 'Run time of the check, in its last run (the longest of its results).',
  rollout_doctor_check_last_run_timestamp_seconds: 'Unix time of the oldest result of the check (a re-evaluation between cycles renews the results it produced).',
  rollout_doctor_check_muted: '1 for a result muted by the config (alert rules skip it); only muted results have the series.',
  rollout_doctor_incident: 'An incident of the last cycle (one root result and the results it explains), 1 each; status is fail, unknown, warn or recovering.',
  rollout_doctor_check_explained_by: 'A result another incident\'s root explains, 1 each (alert rules skip it: the root raises the alert).',
};

function header(name: string, help: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} gauge\n`;
}

/**
 * Results written between two points where a render in steps may pause (src/slices.ts decides when
 * it does): at 1,000 Rollouts (~6,500 results, ~8 MB of text) one whole render blocked /health and
 * /metrics for about 100 ms; 50 results are well under a millisecond.
 */
const RESULTS_PER_STEP = 50;

/** Receives the exposition piece by piece (a BodyBuilder's write). */
export type Write = (text: string) => void;

/**
 * The per-result status and muted marks, and two series per check. Issue 17 measured ~84 series
 * per Rollout at 1,000 Rollouts; duration and last run per result were 2 of them per result, though
 * a check's results share one run (the dashboard reads them `by (check)`), and muted=0 was one more
 * per result that the alert rules and the dashboard never read (they take `muted == 1`).
 *
 * The status is one series per result, the current one: the three zeros of a one-hot set were 3 of
 * the ~6.5 results' 4 series per Rollout (~20 of the 81 left), and no alert rule or panel reads them
 * (every rule takes `status="..."} == 1`; the dashboard's counts are `sum(...) or vector(0)`). When a
 * result changes status its old series ends, and Prometheus and VictoriaMetrics mark it stale at the
 * next scrape, so `{status="fail"} == 1` stops matching exactly as a 0 did. kube-state-metrics made
 * the same change for a per-object reason in v2.0 (kube_pod_container_status_waiting_reason,
 * kubernetes/kube-state-metrics#1378). Phases of upstream objects (rollout_doctor_rollout_phase,
 * rollout_doctor_analysis_run_phase) stay complete one-hot sets, as kube_pod_status_phase.
 */
function* renderResultSeries(results: readonly StoredResult[], write: Write): Generator<void> {
  const keys = results.map((r) => `check="${escapeLabel(r.check)}",target="${escapeLabel(r.target)}"`);
  write(header('rollout_doctor_check_status', RESULT_FAMILY_HELP.rollout_doctor_check_status!));
  for (let i = 0; i < results.length; i++) {
    write(`rollout_doctor_check_status{${keys[i]},status="${results[i]!.status}"} 1\n`);
    if (i % RESULTS_PER_STEP === RESULTS_PER_STEP - 1) yield;
  }
  const byCheck = new Map<string, { durationMs: number; oldestMs: number }>();
  for (const result of results) {
    const seen = byCheck.get(result.check);
    if (!seen) byCheck.set(result.check, { durationMs: result.durationMs, oldestMs: result.checkedAtMs });
    else {
      seen.durationMs = Math.max(seen.durationMs, result.durationMs);
      seen.oldestMs = Math.min(seen.oldestMs, result.checkedAtMs);
    }
  }
  write(header('rollout_doctor_check_duration_seconds', RESULT_FAMILY_HELP.rollout_doctor_check_duration_seconds!));
  for (const [check, seen] of byCheck) write(`rollout_doctor_check_duration_seconds{check="${escapeLabel(check)}"} ${formatValue(seen.durationMs / 1000)}\n`);
  write(header('rollout_doctor_check_last_run_timestamp_seconds', RESULT_FAMILY_HELP.rollout_doctor_check_last_run_timestamp_seconds!));
  for (const [check, seen] of byCheck) write(`rollout_doctor_check_last_run_timestamp_seconds{check="${escapeLabel(check)}"} ${formatValue(seen.oldestMs / 1000)}\n`);
  write(header('rollout_doctor_check_muted', RESULT_FAMILY_HELP.rollout_doctor_check_muted!));
  results.forEach((result, i) => {
    if (result.muted) write(`rollout_doctor_check_muted{${keys[i]}} 1\n`);
  });
}

/** The incidents and the results they explain (src/incidents/correlate.ts). */
function renderIncidentSeries(correlation: Correlation, write: Write): void {
  write(header('rollout_doctor_incident', RESULT_FAMILY_HELP.rollout_doctor_incident!));
  for (const { id, root, status } of correlation.incidents) {
    write(`rollout_doctor_incident{id="${id}",root_check="${escapeLabel(root.check)}",root_target="${escapeLabel(root.target)}",status="${status}"} 1\n`);
  }
  write(header('rollout_doctor_check_explained_by', RESULT_FAMILY_HELP.rollout_doctor_check_explained_by!));
  for (const { root, effects } of correlation.incidents) {
    const rootLabels = `root_check="${escapeLabel(root.check)}",root_target="${escapeLabel(root.target)}"`;
    for (const effect of effects) write(`rollout_doctor_check_explained_by{check="${escapeLabel(effect.check)}",target="${escapeLabel(effect.target)}",${rootLabels}} 1\n`);
  }
}

export interface FamilySource {
  family: MetricFamily;
  /** The check whose results the family reads. */
  checkId: string;
}

/**
 * The per-result families, the incident families, then every check family: HELP and TYPE (even
 * without samples, as prom-client does) and the samples, label values in the family's declared
 * label order; a label set a check family collects twice keeps its last value.
 */
export function renderResultFamilies(results: readonly StoredResult[], correlation: Correlation, sources: readonly FamilySource[], write: Write): void {
  for (const _step of renderSteps(results, correlation, sources, write));
}

/** The same in slices (src/slices.ts), so requests are answered meanwhile. */
export async function renderResultFamiliesInSteps(results: readonly StoredResult[], correlation: Correlation, sources: readonly FamilySource[], write: Write): Promise<void> {
  await runInSlices(renderSteps(results, correlation, sources, write));
}

function* renderSteps(results: readonly StoredResult[], correlation: Correlation, sources: readonly FamilySource[], write: Write): Generator<void> {
  const byCheck = new Map<string, StoredResult[]>();
  for (const result of results) {
    let list = byCheck.get(result.check);
    if (!list) byCheck.set(result.check, (list = []));
    list.push(result);
  }
  yield* renderResultSeries(results, write);
  renderIncidentSeries(correlation, write);
  for (const { family, checkId } of sources) {
    write(header(family.name, family.help));
    const series = new Map<string, number>();
    let done = 0;
    for (const result of byCheck.get(checkId) ?? []) {
      if (++done % RESULTS_PER_STEP === 0) yield;
      // Results the engine wrote for a check that could not run carry no details of the check's.
      if (result.origin !== 'check') continue;
      for (const sample of family.collect(result.details, result)) {
        let labels = '';
        for (const name of family.labelNames) {
          const value = sample.labels[name];
          if (value === undefined) continue;
          labels += `${labels ? ',' : ''}${name}="${escapeLabel(value)}"`;
        }
        series.set(labels, sample.value);
      }
    }
    for (const [labels, value] of series) write(`${family.name}${labels ? `{${labels}}` : ''} ${formatValue(value)}\n`);
  }
}
