/**
 * One measurement of an analysis metric, taken now the way the Argo Rollouts controller of a given
 * version takes it (the version decides where noted; the condition language too, src/expr):
 * - `prometheus` (metricproviders/prometheus/prometheus.go): an instant query through client_golang's
 *   API client, or from v1.8.0 a range query when `rangeQuery` is set (start and end are expr time
 *   expressions, step a Go duration); a vector becomes `[]float64` and a scalar a `float64` for the
 *   conditions; a matrix is every sample of every series in one `[]float64` from v1.8.0 and
 *   "Prometheus metric type not supported" on v1.7, like any other result type.
 * - `web` (metricproviders/webmetric/webmetric.go): the URL with its method, headers and body, a
 *   non-2xx answer is an error, a JSON body is read with the k8s JSONPath (default `{$}`), its first
 *   value is `result`. A body that is not JSON (an empty one too) is recorded as the value, phase
 *   Successful, without evaluating the conditions: every release up to v1.10.0-rc1 ("non JSON body
 *   return as string"); upstream master (07c75035e, unreleased) evaluates them on the text, which is
 *   reported beside it as what the newer rule would decide.
 * VictoriaMetrics answers the same query API.
 *
 * A connection that cannot be made (refused, timeout, DNS, TLS, outside loopback in a simulation) is
 * `Unknown` rather than an Error phase: rollout-doctor may sit elsewhere in the network than the
 * controller, so it says it could not look.
 */
import type { CheckContext } from '../engine/types.js';
import { DEFAULT_MAX_BODY_BYTES, type ProbeResult } from '../probe/http.js';
import {
  evaluateResult,
  type Conditions,
  type Evaluation,
  jsonResult,
  type MetricResult,
  readsResultFields,
  scalarResult,
  stringResult,
  vectorResult,
} from '../expr/argo.js';
import { quote } from '../text.js';
import { isAtLeast } from './controller.js';

export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error' | 'Skipped' | 'Unknown';
export const MEASUREMENT_PHASES: readonly MeasurementPhase[] = ['Successful', 'Failed', 'Inconclusive', 'Error', 'Skipped', 'Unknown'];

export type ResultKind = 'vector' | 'matrix' | 'scalar' | 'empty' | 'nan' | 'json' | 'text';

export interface Measurement {
  phase: MeasurementPhase;
  /** The value as the controller records it (`[0.0123]`, `NaN`, a JSON text). */
  value?: string;
  /** The first numeric value, for the gauge. */
  number?: number;
  resultKind?: ResultKind;
  /** The metrics backend, when its answer says (VictoriaMetrics adds `isPartial`). */
  server?: 'VictoriaMetrics' | 'Prometheus';
  /** Why the phase is Error, Skipped or Unknown. */
  message?: string;
  /** Context worth knowing (how older controllers behave, which value an arg got). */
  note?: string;
  httpStatus?: number;
  errorClass?: string;
  /** The measurement message the controller of this version records, when it differs from `message`. */
  controllerMessage?: string;
  /** The version-dependent rules that decided (upstream file, versions). */
  rules?: string[];
  /** The conditions were not evaluated (a web body that is not JSON): the gate cannot fail. */
  isNotEvaluated?: boolean;
  /** What upstream master's rule (evaluate the conditions on a text body) would decide. */
  newerPhase?: MeasurementPhase;
  /** Which condition held, when evaluated. */
  success?: boolean;
  failure?: boolean;
}

/** strconv.FormatFloat(f, 'f', -1, 64), the way model.SampleValue prints: no exponent, NaN, +Inf. */
export function formatGoFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  const text = String(n);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign, lead, rest = '', expText] = match;
  const digits = `${lead}${rest}`;
  const point = 1 + Number(expText);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A sample value as the Prometheus API writes it ("0.5", "NaN", "+Inf"). */
export function parseSampleValue(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  const n = Number(text);
  return text.trim() === '' || Number.isNaN(n) ? undefined : n;
}

function unreachable(response: Extract<ProbeResult, { ok: false }>, url: string): Measurement {
  const isClusterName = response.errorClass === 'dns' && /\.svc(\.cluster\.local)?(:\d+)?$|\.cluster\.local(:\d+)?$/.test(url);
  const hint = isClusterName ? ' (a cluster-internal name: it resolves only where rollout-doctor runs inside the cluster)' : '';
  const message = response.errorClass === 'blocked' ? `${url}: ${response.message}` : `${url} not reachable: ${response.message}${hint}`;
  return { phase: 'Unknown', message, errorClass: response.errorClass };
}

/** An answer past the prober's body cap is not evaluated: judging a cut-off body would be a guess. */
function tooLarge(status: number): Measurement {
  return { phase: 'Unknown', httpStatus: status, message: `the answer is larger than ${DEFAULT_MAX_BODY_BYTES / 1024 / 1024} MiB: not evaluated` };
}

function fromEvaluation(evaluation: Evaluation, base: Measurement): Measurement {
  if (evaluation.unsupported) return { ...base, phase: 'Unknown', message: `cannot evaluate ${evaluation.unsupported}` };
  const out: Measurement = { ...base, phase: evaluation.phase! };
  if (evaluation.error) out.message = evaluation.error;
  if (evaluation.controllerError && evaluation.controllerError !== evaluation.error) out.controllerMessage = evaluation.controllerError;
  if (evaluation.success !== undefined) out.success = evaluation.success;
  if (evaluation.failure !== undefined) out.failure = evaluation.failure;
  return out;
}

export interface HttpOptions {
  /** Deadline of one request: the provider's own timeout, capped by rollout-doctor's request timeout. */
  timeoutMs: number;
  tlsVerify: boolean;
  headers: Record<string, string>;
  /** The controller version whose rules apply (src/argo/controller.ts). */
  controllerVersion: string;
}

export function headerMap(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(headers)) return out;
  for (const header of headers as { key?: unknown; value?: unknown }[]) {
    if (typeof header?.key === 'string' && header.key !== '') out[header.key] = String(header.value ?? '');
  }
  return out;
}

/** `<address>/api/v1/query` (or `query_range`) as client_golang joins it (the address may carry a path prefix). */
export function prometheusQueryUrl(address: string, endpoint: 'query' | 'query_range' = 'query'): URL {
  const url = new URL(address);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/${endpoint}`;
  return url;
}

/** `rangeQuery` of a prometheus metric (PrometheusRangeQueryArgs, v1.8.0+). */
export interface RangeQuery {
  start?: string;
  end?: string;
  step?: string;
}

const GO_DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/**
 * Go's time.ParseDuration in seconds ("30s", "1h30m", "-5m", "0"); undefined where Go returns an error.
 * The micro signs are written as escapes (U+00B5 and U+03BC): esbuild keeps a regular expression's
 * characters as they are, and one character above U+00FF made V8 hold the whole bundled chunk as a
 * two-byte string (7.2 MB of heap for 3.8 MB of source; test/deploy/bundle.test.ts).
 */
export function parseGoDuration(text: string): number | undefined {
  const match = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/.exec(text);
  if (text === '0' || text === '+0' || text === '-0') return 0;
  if (!match) return undefined;
  let seconds = 0;
  for (const part of text.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g)) seconds += Number(part[1]) * GO_DURATION_UNITS[part[2]!]!;
  return match[1] === '-' ? -seconds : seconds;
}

/**
 * utils/evaluate/evaluate.go EvalTime for the forms its docs give (`now()`, `now() - duration("1h")`,
 * `now() + duration(...)`): the time in ms, or `unsupported` for anything else (the expr interpreter
 * does not evaluate time values, so neither another expression nor expr's errors are guessed).
 */
export function evalRangeTime(expression: string | undefined, nowMs: number): { ms: number } | { unsupported: string } {
  const text = (expression ?? '').trim();
  const match = /^now\(\)(?:\s*([+-])\s*duration\(\s*"([^"]*)"\s*\))?$/.exec(text);
  const seconds = match?.[2] === undefined ? 0 : parseGoDuration(match[2]);
  if (!match || seconds === undefined) return { unsupported: `the time expression ${JSON.stringify(text)}` };
  return { ms: nowMs + (match[1] === '-' ? -1 : 1) * seconds * 1000 };
}

/** client_golang formatTime: seconds since the epoch as the shortest decimal. */
function promTime(ms: number): string {
  return formatGoFloat(ms / 1000);
}

const API_ERROR_CODES = new Set([400, 422, 503]);
const GATEWAY_CODES = new Set([502, 503, 504]);

/** The prometheus provider's measurement, now. */
export async function measurePrometheus(
  ctx: Pick<CheckContext, 'http' | 'signal'>,
  address: string,
  query: string,
  conditions: Conditions,
  options: HttpOptions,
  rangeQuery?: RangeQuery,
): Promise<Measurement> {
  const isV18 = isAtLeast(options.controllerVersion, '1.8.0');
  const rules: string[] = [];
  const params: Record<string, string> = { query };
  if (rangeQuery && isV18) {
    rules.push('rangeQuery: a range query, its matrix flattened into one []float64 (prometheus.go, v1.8.0+)');
    // The wall clock, as the controller's time.Now(): the backend answers for real time.
    const nowMs = Date.now();
    const times: Record<'start' | 'end', number> = { start: 0, end: 0 };
    for (const which of ['start', 'end'] as const) {
      const time = evalRangeTime(rangeQuery[which], nowMs);
      if ('unsupported' in time) return { phase: 'Unknown', rules, message: `cannot evaluate rangeQuery.${which}: ${time.unsupported}` };
      times[which] = time.ms;
    }
    const step = parseGoDuration(rangeQuery.step ?? '');
    if (step === undefined) return { phase: 'Error', rules, message: `failed to parse rangeQuery.step as duration: time: invalid duration ${JSON.stringify(rangeQuery.step ?? '')}` };
    Object.assign(params, { start: promTime(times.start), end: promTime(times.end), step: formatGoFloat(step) });
  } else if (rangeQuery) {
    rules.push('rangeQuery is not read before v1.8.0: the instant query runs (prometheus.go, v1.7)');
  }
  let url: URL;
  try {
    url = prometheusQueryUrl(address, params.step !== undefined ? 'query_range' : 'query');
  } catch {
    return { phase: 'Error', message: 'prometheus address is not is url format' };
  }
  const form = new URLSearchParams(params).toString();
  // client_golang posts the query as a form and falls back to GET when the server answers 405.
  let response = await ctx.http.request({
    url: url.toString(),
    method: 'POST',
    headers: { ...options.headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
    timeoutMs: options.timeoutMs,
    tlsVerify: options.tlsVerify,
    signal: ctx.signal,
  });
  if (response.ok && response.status === 405) {
    response = await ctx.http.request({ url: `${url.toString()}?${form}`, method: 'GET', headers: options.headers, timeoutMs: options.timeoutMs, tlsVerify: options.tlsVerify, signal: ctx.signal });
  }
  if (!response.ok) return unreachable(response, url.origin);
  if (response.bodyTruncated) return tooLarge(response.status);
  const status = response.status;
  const base: Measurement = { phase: 'Error', httpStatus: status };
  if (rules.length > 0) base.rules = rules;
  let body: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(response.body) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  const isApiAnswer = (status >= 200 && status < 300) || API_ERROR_CODES.has(status);
  if (!isApiAnswer || !body) {
    // A proxy in front of the backend answering "bad gateway" or "unavailable": we could not look.
    if (GATEWAY_CODES.has(status)) return { phase: 'Unknown', httpStatus: status, message: `${url.origin} answered ${status} without a query API body` };
    if (!isApiAnswer) return { ...base, message: `${status >= 500 ? 'server_error: server error' : 'client_error: client error'}: ${status}` };
    return { ...base, message: `bad_response: the answer is not a JSON object (${quote(response.body, 120)})` };
  }
  if ('isPartial' in body) base.server = 'VictoriaMetrics';
  else if (body.status !== undefined) base.server = 'Prometheus';
  if (body.status === 'error') return { ...base, message: `${String(body.errorType ?? 'error')}: ${quote(String(body.error ?? ''), 300)}` };
  if (API_ERROR_CODES.has(status)) return { ...base, message: 'bad_response: inconsistent body for response code' };
  const data = (body.data ?? {}) as { resultType?: unknown; result?: unknown };
  let result: MetricResult;
  if (data.resultType === 'vector' && Array.isArray(data.result)) {
    const values: number[] = [];
    for (const sample of data.result as { value?: unknown[] }[]) {
      const v = parseSampleValue(sample?.value?.[1]);
      if (v === undefined) return { ...base, message: `bad_response: unreadable sample value ${quote(JSON.stringify(sample?.value ?? null), 80)}` };
      values.push(v);
    }
    result = vectorResult(values);
    base.value = `[${values.map(formatGoFloat).join(',')}]`;
    base.resultKind = values.length === 0 ? 'empty' : values.some(Number.isNaN) ? 'nan' : 'vector';
    if (values.length > 0) base.number = values[0];
  } else if (data.resultType === 'matrix' && Array.isArray(data.result) && isV18) {
    const values: number[] = [];
    for (const series of data.result as { values?: unknown[][] }[]) {
      for (const pair of series?.values ?? []) {
        const v = parseSampleValue(pair?.[1]);
        if (v === undefined) return { ...base, message: `bad_response: unreadable sample value ${quote(JSON.stringify(pair ?? null), 80)}` };
        values.push(v);
      }
    }
    result = vectorResult(values);
    base.value = `[${values.map(formatGoFloat).join(',')}]`;
    base.resultKind = values.length === 0 ? 'empty' : values.some(Number.isNaN) ? 'nan' : 'matrix';
    if (values.length > 0) base.number = values[0];
    if (!rangeQuery) base.rules = [...(base.rules ?? []), 'a matrix result is flattened into one []float64 (prometheus.go processResponse, v1.8.0+)'];
  } else if (data.resultType === 'scalar' && Array.isArray(data.result)) {
    const v = parseSampleValue((data.result as unknown[])[1]);
    if (v === undefined) return { ...base, message: 'bad_response: unreadable scalar value' };
    result = scalarResult(v);
    base.value = formatGoFloat(v);
    base.resultKind = Number.isNaN(v) ? 'nan' : 'scalar';
    base.number = v;
  } else {
    if (data.resultType === 'matrix') base.rules = [...(base.rules ?? []), 'a matrix result is not supported before v1.8.0 (prometheus.go processResponse, v1.7)'];
    return { ...base, message: 'Prometheus metric type not supported' };
  }
  return fromEvaluation(evaluateResult(result, conditions, options.controllerVersion), base);
}

// ---------------------------------------------------------------------------------------------
// k8s JSONPath (k8s.io/client-go/util/jsonpath), the subset web metrics use: `{$}`, `{$.a.b}`,
// `{.a[0].b}`, `{.a['b-c']}`, `{.items[*].x}`. Recursive descent, filters and slices are not
// evaluated (the caller reports them as unsupported).

type PathStep = { field: string } | { index: number } | { wildcard: true };

export function parseK8sJsonPath(template: string): PathStep[] | { unsupported: string } {
  const trimmed = template.trim();
  const inner = /^\{([^{}]*)\}$/.exec(trimmed)?.[1]?.trim();
  if (inner === undefined) return { unsupported: `jsonPath ${template} (only a single {...} expression is evaluated)` };
  let rest = inner.startsWith('$') ? inner.slice(1) : inner;
  const steps: PathStep[] = [];
  while (rest.length > 0) {
    if (rest.startsWith('..')) return { unsupported: `recursive descent in jsonPath ${template}` };
    let m = /^\.([A-Za-z0-9_-]+)/.exec(rest);
    if (m) {
      steps.push({ field: m[1]! });
      rest = rest.slice(m[0].length);
      continue;
    }
    if (rest.startsWith('.*') || rest.startsWith('[*]')) {
      steps.push({ wildcard: true });
      rest = rest.slice(rest.startsWith('.*') ? 2 : 3);
      continue;
    }
    m = /^\[(\d+)\]/.exec(rest);
    if (m) {
      steps.push({ index: Number(m[1]) });
      rest = rest.slice(m[0].length);
      continue;
    }
    m = /^\[(['"])(.*?)\1\]/.exec(rest);
    if (m) {
      steps.push({ field: m[2]! });
      rest = rest.slice(m[0].length);
      continue;
    }
    return { unsupported: `jsonPath ${template} (filters, slices and negative indexes are not evaluated)` };
  }
  return steps;
}

/** The values a path finds (FindResults), or the error the k8s JSONPath returns. */
export function findJsonPath(data: unknown, steps: PathStep[]): { values: unknown[] } | { error: string } {
  let current: unknown[] = [data];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const node of current) {
      if ('field' in step) {
        if (node && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, step.field)) next.push((node as Record<string, unknown>)[step.field]);
        else return { error: `${step.field} is not found` };
      } else if ('index' in step) {
        if (!Array.isArray(node)) return { error: `array index ${step.index} applied to a non-array` };
        if (step.index >= node.length) return { error: `array index out of bounds: index ${step.index}, length ${node.length}` };
        next.push(node[step.index]);
      } else if (Array.isArray(node)) {
        next.push(...node);
      } else if (node && typeof node === 'object') {
        next.push(...Object.values(node));
      }
    }
    current = next;
  }
  return { values: current };
}

export interface WebRequest {
  url: string;
  method: string;
  body?: string;
  jsonBody?: unknown;
  jsonPath?: string;
}

/** The web provider's measurement, now. */
export async function measureWeb(ctx: Pick<CheckContext, 'http' | 'signal'>, request: WebRequest, conditions: Conditions, options: HttpOptions): Promise<Measurement> {
  const method = request.method || 'GET';
  const hasBody = Boolean(request.body) || request.jsonBody !== undefined;
  if (request.body && request.jsonBody !== undefined) return { phase: 'Error', message: 'use either Body or JSONBody; both cannot exists for WebMetric payload' };
  if (hasBody && method === 'GET') return { phase: 'Error', message: 'Body/JSONBody can only be used with POST or PUT WebMetric Method types' };
  const steps = parseK8sJsonPath(request.jsonPath || '{$}');
  if ('unsupported' in steps) return { phase: 'Unknown', message: `cannot evaluate ${steps.unsupported}` };
  const headers = { ...options.headers };
  if (request.jsonBody !== undefined) headers['Content-Type'] = 'application/json';
  let origin: string;
  try {
    origin = new URL(request.url).origin;
  } catch {
    return { phase: 'Error', message: `invalid URL ${quote(request.url, 120)}` };
  }
  const response = await ctx.http.request({
    url: request.url,
    method,
    headers,
    body: request.jsonBody !== undefined ? JSON.stringify(request.jsonBody) : request.body || undefined,
    timeoutMs: options.timeoutMs,
    tlsVerify: options.tlsVerify,
    signal: ctx.signal,
  });
  if (!response.ok) return unreachable(response, origin);
  if (response.bodyTruncated) return tooLarge(response.status);
  const base: Measurement = { phase: 'Error', httpStatus: response.status };
  if (response.status < 200 || response.status >= 300) return { ...base, message: `received non 2xx response code: ${response.status}` };
  let data: unknown;
  try {
    data = JSON.parse(response.body);
  } catch {
    return measureText(response.body, conditions, base, options.controllerVersion);
  }
  const found = findJsonPath(data, steps);
  if ('error' in found) return { ...base, message: `Could not find JSONPath in body: ${found.error}` };
  if (found.values.length === 0) return { ...base, message: 'result of web metric produced no value' };
  const value = found.values[0];
  base.value = JSON.stringify(value ?? null);
  base.resultKind = 'json';
  if (typeof value === 'number') base.number = value;
  return fromEvaluation(evaluateResult(jsonResult(value), conditions, options.controllerVersion), base);
}

const TEXT_BODY_RULE = 'a body that is not JSON is Successful without evaluating the conditions (webmetric.go parseResponse, every release up to v1.10.0-rc1; upstream master 07c75035e, unreleased, evaluates them)';

/**
 * A body that is not JSON: the released controllers record it as the value, Successful, and never
 * evaluate the conditions; what upstream master's rule would decide is kept beside it.
 */
function measureText(body: string, conditions: Conditions, base: Measurement, controllerVersion: string): Measurement {
  const out: Measurement = { ...base, phase: 'Successful', value: quote(body, 200), resultKind: 'text', rules: [TEXT_BODY_RULE] };
  if (!conditions.successCondition && !conditions.failureCondition) return out;
  const newer = fromEvaluation(evaluateResult(stringResult(body), conditions, controllerVersion), { phase: 'Error' });
  out.isNotEvaluated = true;
  out.newerPhase = newer.phase;
  const readsFields = [conditions.successCondition, conditions.failureCondition].some((c) => c && readsResultFields(c));
  if (newer.phase === 'Error' || newer.phase === 'Unknown') out.note = `upstream master would record an Error: ${readsFields ? 'the body is not JSON but a condition reads result fields: ' : ''}${newer.message ?? 'error'}`;
  return out;
}
