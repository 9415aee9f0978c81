/**
 * One measurement of an analysis metric, taken now the way the Argo Rollouts controller takes it:
 * the `prometheus` provider (metricproviders/prometheus: an instant query through client_golang's
 * API client, a vector becomes `[]float64` and a scalar a `float64` for the conditions, other result
 * types are an error) and the `web` provider (metricproviders/webmetric: the URL with its method,
 * headers and body, a non-2xx answer is an error, a JSON body is read with the k8s JSONPath
 * (default `{$}`), its first value is `result`). VictoriaMetrics answers the same query API.
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

export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error' | 'Skipped' | 'Unknown';
export const MEASUREMENT_PHASES: readonly MeasurementPhase[] = ['Successful', 'Failed', 'Inconclusive', 'Error', 'Skipped', 'Unknown'];

export type ResultKind = 'vector' | 'scalar' | 'empty' | 'nan' | 'json' | 'text';

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
  /** What Argo Rollouts up to v1.8 records instead (a body that is not JSON is Successful there). */
  legacyPhase?: MeasurementPhase;
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
  if (evaluation.success !== undefined) out.success = evaluation.success;
  if (evaluation.failure !== undefined) out.failure = evaluation.failure;
  return out;
}

export interface HttpOptions {
  /** Deadline of one request: the provider's own timeout, capped by rollout-doctor's request timeout. */
  timeoutMs: number;
  tlsVerify: boolean;
  headers: Record<string, string>;
}

export function headerMap(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(headers)) return out;
  for (const header of headers as { key?: unknown; value?: unknown }[]) {
    if (typeof header?.key === 'string' && header.key !== '') out[header.key] = String(header.value ?? '');
  }
  return out;
}

/** `<address>/api/v1/query` as client_golang joins it (the address may carry a path prefix). */
export function prometheusQueryUrl(address: string): URL {
  const url = new URL(address);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
  return url;
}

const API_ERROR_CODES = new Set([400, 422, 503]);
const GATEWAY_CODES = new Set([502, 503, 504]);

/** The prometheus provider's measurement, now. */
export async function measurePrometheus(ctx: Pick<CheckContext, 'http' | 'signal'>, address: string, query: string, conditions: Conditions, options: HttpOptions): Promise<Measurement> {
  let url: URL;
  try {
    url = prometheusQueryUrl(address);
  } catch {
    return { phase: 'Error', message: 'prometheus address is not is url format' };
  }
  const form = new URLSearchParams({ query }).toString();
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
  } else if (data.resultType === 'scalar' && Array.isArray(data.result)) {
    const v = parseSampleValue((data.result as unknown[])[1]);
    if (v === undefined) return { ...base, message: 'bad_response: unreadable scalar value' };
    result = scalarResult(v);
    base.value = formatGoFloat(v);
    base.resultKind = Number.isNaN(v) ? 'nan' : 'scalar';
    base.number = v;
  } else {
    return { ...base, message: 'Prometheus metric type not supported' };
  }
  return fromEvaluation(evaluateResult(result, conditions), base);
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
    return measureText(response.body, conditions, base);
  }
  const found = findJsonPath(data, steps);
  if ('error' in found) return { ...base, message: `Could not find JSONPath in body: ${found.error}` };
  if (found.values.length === 0) return { ...base, message: 'result of web metric produced no value' };
  const value = found.values[0];
  base.value = JSON.stringify(value ?? null);
  base.resultKind = 'json';
  if (typeof value === 'number') base.number = value;
  return fromEvaluation(evaluateResult(jsonResult(value), conditions), base);
}

const LEGACY_TEXT_NOTE = 'Argo Rollouts up to v1.8 records a body that is not JSON as Successful without evaluating the conditions; later versions evaluate them on the raw text';

/** A body that is not JSON: later controllers evaluate the conditions on the text; v1.8 and earlier skip them. */
function measureText(body: string, conditions: Conditions, base: Measurement): Measurement {
  const measured = fromEvaluation(evaluateResult(stringResult(body), conditions), { ...base, value: quote(body, 200), resultKind: 'text', note: LEGACY_TEXT_NOTE, legacyPhase: 'Successful' });
  const readsFields = [conditions.successCondition, conditions.failureCondition].some((c) => c && readsResultFields(c));
  if (readsFields && measured.phase === 'Error') measured.message = `the body is not JSON but a condition reads result fields (${measured.message ?? 'error'})`;
  return measured;
}
