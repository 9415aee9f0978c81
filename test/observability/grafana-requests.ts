/**
 * The requests Grafana's Prometheus data source sends for a dashboard target, so a test can send the
 * same ones to VictoriaMetrics: dashboard variables interpolated the way the frontend does it, then
 * $__interval, $__rate_interval and $__range and the step the way the backend does it, and the range
 * aligned to the step. Ported (not copied) from Grafana, cited per function:
 *
 * - grafana/grafana packages/grafana-prometheus/src/escaping.ts (commit 057ec121):
 *   interpolateQueryExpr, prometheusSpecialRegexEscape (the classic behaviour, without the
 *   prometheusSpecialCharsInLabelValues feature toggle);
 * - docs/sources/variables/formatting-multi-value-variables.md: a custom all value (our `.*`) is used
 *   as it is, neither escaped nor joined;
 * - pkg/promlib/models/query.go (commit 00aaabde): calculatePrometheusInterval, calculateRateInterval,
 *   interpolateVariables, AlignTimeRange; pkg/promlib/intervalv2/intervalv2.go (commit 1e15b800):
 *   Calculate, CalculateSafeInterval (safe resolution 11000); grafana-plugin-sdk-go backend/gtime:
 *   RoundInterval (the table below), FormatInterval, GetIntervalFrom.
 */
import type { Panel, VariableModel } from '@grafana/schema';
import type { PrometheusQuery } from '../../grafana/dashboard.js';

/** What is selected in a variable's drop-down: "All", or some of its values. */
export type Selection = 'All' | string[];

/** The data source settings that change the queries: jsonData.timeInterval, the scrape interval. */
export interface DatasourceSettings {
  scrapeIntervalMs: number;
}

export interface TimeRange {
  fromMs: number;
  toMs: number;
}

export type GrafanaRequest =
  | { kind: 'instant'; expr: string; timeSeconds: number }
  | { kind: 'range'; expr: string; startSeconds: number; endSeconds: number; stepSeconds: number };

/** prometheusSpecialRegexEscape, classic: backslashes doubled twice, RE2 metacharacters escaped for a PromQL string. */
function regexEscape(value: string): string {
  return value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]+?.()|]/g, '\\\\$&');
}

/** prometheusRegularEscape, classic: for a variable that is neither multi nor includeAll. */
function regularEscape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");
}

/** The text a variable's selection becomes inside a query. */
export function formatSelection(variable: VariableModel, selection: Selection): string {
  if (selection === 'All') {
    if (typeof variable.allValue === 'string' && variable.allValue !== '') return variable.allValue;
    throw new Error(`variable ${variable.name}: "All" without a custom all value is not modelled by this test`);
  }
  if (!variable.multi && !variable.includeAll) return regularEscape(selection.join(','));
  const escaped = selection.map(regexEscape);
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
}

/** Replaces `$name` and `${name}` of the dashboard's variables; Grafana's own `$__...` stay for the backend. */
export function interpolateDashboardVariables(expr: string, variables: readonly VariableModel[], selections: Record<string, Selection>): string {
  return expr.replace(/\$\{(\w+)(?::([^}]+))?\}|\$(\w+)/g, (match, braced: string | undefined, format: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    if (name.startsWith('__')) return match;
    const variable = variables.find((v) => v.name === name);
    if (!variable) throw new Error(`${expr}: uses $${name}, which the dashboard does not define`);
    if (format !== undefined) throw new Error(`${expr}: \${${name}:${format}} (a format) is not modelled by this test`);
    const selection = selections[name];
    if (selection === undefined) throw new Error(`${expr}: no selection given for $${name}`);
    return formatSelection(variable, selection);
  });
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** gtime.RoundInterval: [at most this many ms, rounds to this many ms]. */
const ROUNDING: readonly [number, number][] = [
  [10, 1],
  [15, 10],
  [35, 20],
  [75, 50],
  [150, 100],
  [350, 200],
  [750, 500],
  [1500, SECOND],
  [3500, 2 * SECOND],
  [7500, 5 * SECOND],
  [12500, 10 * SECOND],
  [17500, 15 * SECOND],
  [25000, 20 * SECOND],
  [45000, 30 * SECOND],
  [90000, MINUTE],
  [210000, 2 * MINUTE],
  [450000, 5 * MINUTE],
  [750000, 10 * MINUTE],
  [1050000, 15 * MINUTE],
  [1500000, 20 * MINUTE],
  [2700000, 30 * MINUTE],
  [5400000, HOUR],
  [9000000, 2 * HOUR],
  [16200000, 3 * HOUR],
  [32400000, 6 * HOUR],
  [86400000, 12 * HOUR],
  [172800000, DAY],
  [604800000, DAY],
  [1814400000, 7 * DAY],
  [3628800000 - 1, 30 * DAY],
];

export function roundInterval(ms: number): number {
  return ROUNDING.find(([limit]) => ms <= limit)?.[1] ?? 365 * DAY;
}

/** gtime.FormatInterval: the largest whole unit (what $__interval becomes). */
export function formatInterval(ms: number): string {
  const units: [number, string][] = [
    [365 * DAY, 'y'],
    [DAY, 'd'],
    [HOUR, 'h'],
    [MINUTE, 'm'],
    [SECOND, 's'],
    [1, 'ms'],
  ];
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return '1ms';
}

/** Go's time.Duration.String() for whole milliseconds (what $__rate_interval becomes): 2m0s, 1h0m0s, 45s, 1.5s. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < SECOND) return `${ms}ms`;
  const hours = Math.floor(ms / HOUR);
  const minutes = Math.floor((ms % HOUR) / MINUTE);
  const seconds = (ms % MINUTE) / SECOND;
  return `${hours ? `${hours}h` : ''}${hours || minutes ? `${minutes}m` : ''}${seconds}s`;
}

/**
 * The requests for one target of a panel over `range`: the frontend's interval (range / max data
 * points, rounded, at least the scrape interval), the backend's step (that interval, at least range /
 * 11000) and $__rate_interval (max(interval + scrape interval, 4 × scrape interval)), start and end
 * rounded down to the step. `maxDataPoints` is the panel's width in pixels unless the panel sets it.
 */
export function grafanaRequests(target: PrometheusQuery, panel: Panel, range: TimeRange, datasource: DatasourceSettings, maxDataPoints: number, interpolated: string): GrafanaRequest[] {
  if ((target as { interval?: string }).interval) throw new Error(`${panel.title} ${target.refId}: a per-query min step is not modelled by this test`);
  const rangeMs = range.toMs - range.fromMs;
  const points = panel.maxDataPoints ?? maxDataPoints;
  // Frontend (rangeutil.calculateInterval): the request's interval, no lower than the scrape interval.
  const intervalMs = Math.max(roundInterval(rangeMs / points), datasource.scrapeIntervalMs);
  // Backend (calculatePrometheusInterval): GetIntervalFrom takes the request's interval as the minimum.
  const calculated = rangeMs / points < intervalMs ? intervalMs : roundInterval(rangeMs / points);
  const stepMs = Math.max(calculated, roundInterval(rangeMs / 11000));
  const rateIntervalMs = Math.max(intervalMs + datasource.scrapeIntervalMs, 4 * datasource.scrapeIntervalMs);
  const rangeSeconds = Math.round(rangeMs / SECOND);
  const expr = interpolated
    .replaceAll('$__interval_ms', String(stepMs))
    .replaceAll('${__interval_ms}', String(stepMs))
    .replaceAll('$__interval', formatInterval(stepMs))
    .replaceAll('${__interval}', formatInterval(stepMs))
    .replaceAll('$__range_ms', String(rangeMs))
    .replaceAll('${__range_ms}', String(rangeMs))
    .replaceAll('$__range_s', String(rangeSeconds))
    .replaceAll('${__range_s}', String(rangeSeconds))
    .replaceAll('$__range', `${rangeSeconds}s`)
    .replaceAll('${__range}', `${rangeSeconds}s`)
    .replaceAll('$__rate_interval_ms', String(rateIntervalMs))
    .replaceAll('${__rate_interval_ms}', String(rateIntervalMs))
    .replaceAll('$__rate_interval', goDuration(rateIntervalMs))
    .replaceAll('${__rate_interval}', goDuration(rateIntervalMs));
  if (/\$/.test(expr)) throw new Error(`${panel.title} ${target.refId}: ${expr} still has a variable`);
  const align = (ms: number) => Math.floor(ms / stepMs) * stepMs;
  const requests: GrafanaRequest[] = [];
  // "Both" sends two queries (datasource.ts processTargetV2); neither runs as a range query (older dashboards).
  if (target.instant) requests.push({ kind: 'instant', expr, timeSeconds: range.toMs / SECOND });
  if (target.range || !target.instant) requests.push({ kind: 'range', expr, startSeconds: align(range.fromMs) / SECOND, endSeconds: align(range.toMs) / SECOND, stepSeconds: stepMs / SECOND });
  return requests;
}

/** Grafana's relative time: `now`, `now-6h`, `now-30m`, `now-2d`. */
export function relativeTime(text: string, nowMs: number): number {
  if (text === 'now') return nowMs;
  const match = /^now-(\d+)([smhdw])$/.exec(text);
  if (!match) throw new Error(`time ${text}: only now and now-N[smhdw] are modelled by this test`);
  const unit = { s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: 7 * DAY }[match[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return nowMs - Number(match[1]) * unit;
}
