/**
 * kube-api: rollout-doctor reaches the Kubernetes API server and the server accepts its credentials.
 * One request a cycle, GET /version (what `kubectl version` asks), made alongside the snapshot. When
 * nothing answers (connection refused, DNS, TLS, no answer within timeouts.requestMs) or the server
 * refuses the credentials (401), this is the one result that says so, naming the server, the context
 * and what to run; the other checks' results that failed for the same cause point at it
 * (`explains`, src/engine/runner.ts) instead of repeating it once per check and target.
 *
 * Runbook: none (every section of it starts with kubectl reaching the cluster).
 * Permissions: get on the non-resource URL /version, which every client has through Kubernetes'
 * default ClusterRole system:public-info-viewer, bound to system:authenticated and
 * system:unauthenticated (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go, v1.32.0). A
 * cluster that took /version out of it answers 403, which still proves that the server answers and
 * authenticated us: ok.
 */
import { type ApiContext, apiErrorRemediation, describeApi } from '../engine/api-remediation.js';
import type { Check, CheckContext, CheckResult, Explanation, MetricFamily } from '../engine/types.js';
import { apiErrorDetails, type ApiErrorDetails, isKubeError, type KubeError } from '../kube/errors.js';
import { result } from './lib/results.js';

/** How the API answered, as the one-hot `state` of rollout_doctor_kube_api_state. */
export const KUBE_API_STATES = ['ok', 'unreachable', 'tls_error', 'unauthorized', 'error'] as const;
type State = (typeof KUBE_API_STATES)[number];

interface KubeApiDetails {
  server: string;
  context?: string;
  /** Where the credentials come from (never the credentials). */
  credentials: string;
  state: State;
  /** gitVersion from /version. */
  version?: string;
  reason?: string;
  apiError?: ApiErrorDetails;
}

function stateOf(error: KubeError): State {
  switch (error.reason) {
    case 'Unreachable':
    case 'Timeout':
      return 'unreachable';
    case 'TLSError':
      return 'tls_error';
    case 'Unauthorized':
      return 'unauthorized';
    default:
      return 'error';
  }
}

function summaryOf(api: string, error: KubeError, state: State, credentials: string): string {
  switch (state) {
    case 'unreachable':
      return `Kubernetes API ${api} unreachable: ${error.detail || error.reason}`;
    case 'tls_error':
      return `Kubernetes API ${api}: TLS handshake failed (${error.detail})`;
    case 'unauthorized':
      return `Kubernetes API ${api} rejects rollout-doctor's credentials (401 Unauthorized): ${credentials}`;
    default:
      return `Kubernetes API ${api} answered GET /version with an error: ${error.message}`;
  }
}

async function evaluate(ctx: CheckContext): Promise<CheckResult<KubeApiDetails>> {
  const apiContext: ApiContext = { api: ctx.api, kubectlContext: ctx.config.kubectlContext };
  const api = describeApi(apiContext);
  const target = ctx.api.context ?? ctx.api.server;
  const details: KubeApiDetails = { server: ctx.api.server, ...(ctx.api.context ? { context: ctx.api.context } : {}), credentials: ctx.api.credentials, state: 'ok' };
  try {
    const version = await ctx.kube.serverVersion();
    details.version = version.gitVersion;
    return result(target, 'ok', `Kubernetes API ${api} answers (${version.gitVersion || 'version not given'})`, details);
  } catch (error) {
    if (!isKubeError(error)) throw error;
    if (error.reason === 'Forbidden') return result(target, 'ok', `Kubernetes API ${api} answers and accepts rollout-doctor's credentials (GET /version is forbidden to it)`, details);
    const state = stateOf(error);
    const apiError = apiErrorDetails(error);
    return result(target, 'unknown', summaryOf(api, error, state, ctx.api.credentials), { ...details, state, reason: error.message, apiError }, apiErrorRemediation(apiContext, apiError));
  }
}

export const metrics: MetricFamily<KubeApiDetails>[] = [
  {
    name: 'rollout_doctor_kube_api_state',
    help: 'Whether the Kubernetes API answers rollout-doctor: 1 for the current state (ok, unreachable, tls_error, unauthorized, error), 0 for the others.',
    labelNames: ['state'],
    collect: (d) => KUBE_API_STATES.map((state) => ({ labels: { state }, value: d.state === state ? 1 : 0 })),
  },
];

/** Nothing answers, or the credentials are refused: every other API call of the cycle fails the same way. */
function explains(found: Pick<CheckResult<KubeApiDetails>, 'details'>): Explanation | undefined {
  switch (found.details.state) {
    case 'unreachable':
    case 'tls_error':
      return { reasons: ['Unreachable', 'TLSError', 'Timeout'], cause: 'the Kubernetes API is unreachable' };
    case 'unauthorized':
      return { reasons: ['Unauthorized'], cause: "the Kubernetes API rejects rollout-doctor's credentials" };
    default:
      return undefined;
  }
}

export const kubeApiCheck: Check<KubeApiDetails> = {
  id: 'kube-api',
  description: 'The Kubernetes API server answers rollout-doctor and accepts its credentials (GET /version).',
  needs: [],
  metrics,
  run: async (ctx) => [await evaluate(ctx)],
  explains,
};
