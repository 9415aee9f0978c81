/**
 * endpoint: the apps behind the rollouts answer, probed over real HTTP with undici: method, headers,
 * body, a bearer token from an env var or a file, the expected status set, an optional body
 * substring or JSON path equality, a timeout and a slow threshold. Failures carry their class
 * (refused, timeout, reset, TLS, DNS, status, redirect) so an operator knows where to look.
 *
 * Runbook: "What Healthy looks like" (the LiteLLM and Sympozium pods serving on their addresses)
 * and the inconclusive-analysis curl. Permissions: none in the cluster.
 */
import { readFile } from 'node:fs/promises';
import { POD_TEMPLATE_HASH_LABEL } from '../argo/names.js';
import type { EndpointConfig } from '../config/schema.js';
import { kubectl, type RemediationStep, text } from '../engine/remediation.js';
import type { Check, CheckContext, CheckResult, MetricFamily } from '../engine/types.js';
import { argoRollouts } from './lib/commands.js';
import { curlFor } from './lib/endpoints.js';
import { redactUrl } from '../log.js';
import { quote } from '../text.js';
import { result } from './lib/results.js';

interface EndpointDetails {
  url: string;
  method: string;
  expectedStatus: number[] | '2xx';
  slowAfterMs: number;
  timeoutMs: number;
  /** The Rollout (`namespace/name`) the endpoint serves. */
  rollout?: string;
  /** Why it was not probed. */
  reason?: string;
  errorClass?: string;
  error?: string;
  latencyMs?: number;
  statusCode?: number;
  bodyStart?: string;
  jsonPath?: string;
  jsonValue?: unknown;
}

type Token = { ok: true; value?: string } | { ok: false; reason: string };

async function resolveToken(endpoint: EndpointConfig): Promise<Token> {
  const source = endpoint.bearerToken;
  if (!source) return { ok: true };
  if (source.env) {
    const value = process.env[source.env];
    if (!value) return { ok: false, reason: `bearer token env var ${source.env} is not set` };
    return { ok: true, value: value.trim() };
  }
  try {
    const value = (await readFile(source.file!, 'utf8')).trim();
    if (!value) return { ok: false, reason: `bearer token file ${source.file} is empty` };
    return { ok: true, value };
  } catch (error) {
    return { ok: false, reason: `bearer token file ${source.file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

/** `$.data[0].id`, `data.0.id`, `$['a-b'].c`: dots, [index] and ['key']. */
export function readJsonPath(value: unknown, path: string): { found: boolean; value?: unknown } {
  const segments: (string | number)[] = [];
  const re = /\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]|\.?([^.[\]]+)/g;
  const text = path.replace(/^\$/, '');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== undefined) segments.push(Number(m[1]));
    else segments.push(m[2] ?? m[3] ?? m[4]!);
  }
  let current: unknown = value;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return { found: false };
    const next = (current as Record<string | number, unknown>)[segment];
    if (next === undefined) return { found: false };
    current = next;
  }
  return { found: true, value: current };
}

function rolloutSteps(endpoint: EndpointConfig): RemediationStep[] {
  if (!endpoint.rollout) return [];
  const [namespace, name] = endpoint.rollout.split('/') as [string, string];
  return [argoRollouts('get rollout', namespace, name), kubectl(['get', 'pods', '-n', namespace, '-l', POD_TEMPLATE_HASH_LABEL])];
}

function statusMatches(endpoint: EndpointConfig, status: number): boolean {
  return endpoint.expectStatus ? endpoint.expectStatus.includes(status) : status >= 200 && status < 300;
}

async function probe(ctx: CheckContext, endpoint: EndpointConfig): Promise<CheckResult<EndpointDetails>> {
  const target = endpoint.name;
  const url = redactUrl(endpoint.url);
  const base: EndpointDetails = {
    url,
    method: endpoint.method,
    expectedStatus: endpoint.expectStatus ?? '2xx',
    slowAfterMs: endpoint.slowAfterMs,
    timeoutMs: endpoint.timeoutMs,
  };
  if (endpoint.rollout) base.rollout = endpoint.rollout;
  const token = await resolveToken(endpoint);
  const remediation = [curlFor(endpoint, { flags: ['-sS'], isTokenFileReadable: token.ok }), ...rolloutSteps(endpoint)];
  if (!token.ok) {
    const fix = endpoint.bearerToken?.env
      ? `Set ${endpoint.bearerToken.env} in rollout-doctor's environment (the Deployment's env, from a Secret)`
      : `Make ${endpoint.bearerToken?.file} readable by rollout-doctor and non-empty (a mounted Secret)`;
    return result(target, 'unknown', `${endpoint.method} ${url} not probed: ${token.reason}`, { ...base, reason: token.reason }, [text(`${fix}, or remove bearerToken from endpoint ${target} in the config`)]);
  }

  const headers: Record<string, string> = { ...endpoint.headers };
  if (token.value) headers.authorization = `Bearer ${token.value}`;
  const response = await ctx.http.request({
    url: endpoint.url,
    method: endpoint.method,
    headers,
    body: endpoint.body,
    timeoutMs: endpoint.timeoutMs,
    tlsVerify: endpoint.tlsVerify,
    signal: ctx.signal,
  });
  const latencyMs = Math.round(response.durationMs);
  if (!response.ok) {
    const details = { ...base, errorClass: response.errorClass, error: response.message, latencyMs };
    if (response.errorClass === 'blocked') {
      return result(target, 'unknown', `${endpoint.method} ${url}: ${response.message}`, details, [text(`A simulation probes only 127.0.0.0/8; point endpoint ${target} at a loopback address or a FakeApp of the scenario to probe it`)]);
    }
    return result(target, 'fail', `${endpoint.method} ${url} failed: ${response.message}`, details, remediation);
  }
  const details: EndpointDetails = { ...base, statusCode: response.status, latencyMs };
  if (!statusMatches(endpoint, response.status)) {
    const hint = response.status === 401 || response.status === 403 ? (endpoint.bearerToken ? ' (is the bearer token right?)' : ' (the endpoint wants credentials)') : '';
    return result(
      target,
      'fail',
      `${endpoint.method} ${url} answered ${response.status}, expected ${endpoint.expectStatus ? endpoint.expectStatus.join(' or ') : '2xx'}${hint}`,
      { ...details, errorClass: 'status' },
      remediation,
    );
  }
  if (endpoint.bodyContains !== undefined && !response.body.includes(endpoint.bodyContains)) {
    return result(
      target,
      'fail',
      `${endpoint.method} ${url} answered ${response.status} without "${quote(endpoint.bodyContains, 80)}" in the body`,
      { ...details, errorClass: 'body', bodyStart: quote(response.body, 200) },
      remediation,
    );
  }
  if (endpoint.jsonPath !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body);
    } catch {
      return result(target, 'fail', `${endpoint.method} ${url} answered ${response.status} with a body that is not JSON`, { ...details, errorClass: 'body' }, remediation);
    }
    const found = readJsonPath(parsed, endpoint.jsonPath);
    details.jsonPath = endpoint.jsonPath;
    details.jsonValue = found.found ? found.value : null;
    if (endpoint.jsonEquals !== undefined ? !found.found || found.value !== endpoint.jsonEquals : !found.found) {
      const expected = endpoint.jsonEquals !== undefined ? ` = ${JSON.stringify(endpoint.jsonEquals)}` : ' to exist';
      return result(
        target,
        'fail',
        `${endpoint.method} ${url}: ${endpoint.jsonPath} is ${found.found ? JSON.stringify(found.value) : 'absent'}, expected${expected}`,
        { ...details, errorClass: 'body' },
        remediation,
      );
    }
  }
  if (latencyMs > endpoint.slowAfterMs) {
    return result(target, 'warn', `${endpoint.method} ${url} answered ${response.status} slowly: ${latencyMs} ms (> ${endpoint.slowAfterMs} ms)`, details, remediation);
  }
  return result(target, 'ok', `${endpoint.method} ${url} answered ${response.status} in ${latencyMs} ms`, details);
}

export const metrics: MetricFamily<EndpointDetails>[] = [
  {
    name: 'rollout_doctor_endpoint_up',
    help: '1 when the endpoint answered as expected (ok or slow), 0 when the probe failed; absent when not probed.',
    labelNames: ['endpoint'],
    collect: (_d, r) => (r.status === 'unknown' ? [] : [{ labels: { endpoint: r.target }, value: r.status === 'fail' ? 0 : 1 }]),
  },
  {
    name: 'rollout_doctor_endpoint_probe_duration_seconds',
    help: 'Duration of the last probe of the endpoint, including reading the body.',
    labelNames: ['endpoint'],
    collect: (d, r) => (d.latencyMs === undefined ? [] : [{ labels: { endpoint: r.target }, value: d.latencyMs / 1000 }]),
  },
  {
    name: 'rollout_doctor_endpoint_status_code',
    help: 'HTTP status code of the last probe (absent when no answer came).',
    labelNames: ['endpoint'],
    collect: (d, r) => (d.statusCode === undefined ? [] : [{ labels: { endpoint: r.target }, value: d.statusCode }]),
  },
];

export const endpointCheck: Check<EndpointDetails> = {
  id: 'endpoint',
  description: 'Each configured endpoint answers with the expected status (and body) within its slow threshold.',
  needs: [],
  metrics,
  async run(ctx) {
    // An endpoint that serves a Rollout is grouped with it (its result is about that Rollout).
    return Promise.all(ctx.config.endpoints.map(async (endpoint) => ({ ...(await probe(ctx, endpoint)), rollout: endpoint.rollout })));
  },
};
