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
import { type MetricFamily, STATUSES, type StoredResult } from '../engine/types.js';

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

/** The families every result gets, whatever its check. */
export const RESULT_FAMILIES: readonly MetricFamily[] = [
  {
    name: 'rollout_doctor_check_status',
    help: 'Result of a check for a target, one series per status (ok, warn, fail, unknown); the current one is 1.',
    labelNames: ['check', 'target', 'status'],
    collect: (r) => STATUSES.map((status) => ({ labels: { check: (r as StoredResult).check, target: r.target, status }, value: r.status === status ? 1 : 0 })),
  },
  {
    name: 'rollout_doctor_check_duration_seconds',
    help: 'Run time of the check that produced this result, in its last cycle.',
    labelNames: ['check', 'target'],
    collect: (r) => [{ labels: { check: (r as StoredResult).check, target: r.target }, value: (r as StoredResult).durationMs / 1000 }],
  },
  {
    name: 'rollout_doctor_check_last_run_timestamp_seconds',
    help: 'Unix time of the cycle that produced this result.',
    labelNames: ['check', 'target'],
    collect: (r) => [{ labels: { check: (r as StoredResult).check, target: r.target }, value: (r as StoredResult).checkedAtMs / 1000 }],
  },
  {
    name: 'rollout_doctor_check_muted',
    help: '1 when the result is muted by the config (alert rules skip it), else 0.',
    labelNames: ['check', 'target'],
    collect: (r) => [{ labels: { check: (r as StoredResult).check, target: r.target }, value: (r as StoredResult).muted ? 1 : 0 }],
  },
];

export interface FamilySource {
  family: MetricFamily;
  /** Results of this check only; undefined = every result. */
  checkId?: string;
}

/**
 * Every family's HELP and TYPE (even without samples, as prom-client does) and its samples, label
 * values in the family's declared label order; a label set collected twice keeps its last value.
 */
export function renderResultFamilies(results: readonly StoredResult[], sources: readonly FamilySource[]): string {
  const byCheck = new Map<string, StoredResult[]>();
  for (const result of results) {
    let list = byCheck.get(result.check);
    if (!list) byCheck.set(result.check, (list = []));
    list.push(result);
  }
  const chunks: string[] = [];
  for (const { family, checkId } of sources) {
    chunks.push(`# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} gauge\n`);
    const series = new Map<string, number>();
    for (const result of checkId === undefined ? results : (byCheck.get(checkId) ?? [])) {
      for (const sample of family.collect(result)) {
        let labels = '';
        for (const name of family.labelNames) {
          const value = sample.labels[name];
          if (value === undefined) continue;
          labels += `${labels ? ',' : ''}${name}="${escapeLabel(value)}"`;
        }
        series.set(labels, sample.value);
      }
    }
    for (const [labels, value] of series) chunks.push(`${family.name}${labels ? `{${labels}}` : ''} ${formatValue(value)}\n`);
  }
  return chunks.join('');
}
