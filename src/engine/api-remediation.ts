/**
 * What to do when one of rollout-doctor's own Kubernetes API calls fails: the remediation of the
 * `unknown` result it leaves behind, built from the typed error (src/kube/errors.ts) and from who
 * rollout-doctor is to the API server (src/kube/client.ts ApiIdentity). By cause:
 * - no connection, a TLS failure, no answer: the server and the context, and `kubectl cluster-info`
 *   against them;
 * - 401: which credentials the API server rejected, and `kubectl auth whoami` with them;
 * - 403: the RBAC rule to add, to the ClusterRole or the Role (in the namespace of the request) that
 *   deploy/rbac.yaml grants;
 * - any other error answer (5xx, 429, a malformed body): the same list by kubectl, and the API
 *   server's own health checks.
 */
import { stringify } from 'yaml';
import type { ApiIdentity } from '../kube/client.js';
import type { ApiErrorDetails } from '../kube/errors.js';
import { type Command, kubectl, type RemediationStep, text, type Word } from './remediation.js';

/** What the remediation knows about where rollout-doctor runs. */
export interface ApiContext {
  api: ApiIdentity;
  /** `kubectlContext` of the config: the context a human's kubectl uses for this cluster. */
  kubectlContext?: string;
}

/** `kubectl [--kubeconfig F] [--context X] <args>`: the cluster rollout-doctor talks to, named. */
export function clusterKubectl({ api, kubectlContext }: ApiContext, args: readonly Word[]): Command {
  const context = kubectlContext ?? api.context;
  return kubectl([...(api.kubeconfig ? ['--kubeconfig', api.kubeconfig] : []), ...(context ? ['--context', context] : []), ...args]);
}

/** `https://127.0.0.1:6443 (context homelab)`. */
export function describeApi({ api, kubectlContext }: ApiContext): string {
  const context = kubectlContext ?? api.context;
  return `${api.server}${context ? ` (context ${context})` : ''}`;
}

/** `rollouts.argoproj.io` -> group argoproj.io, resource rollouts; `pods/log` -> core, pods/log. */
function splitResource(resource: string): { group: string; resource: string } {
  const [head = '', ...sub] = resource.split('/');
  const dot = head.indexOf('.');
  if (dot === -1) return { group: '', resource };
  return { group: head.slice(dot + 1), resource: [head.slice(0, dot), ...sub].join('/') };
}

/** The rule as one line of YAML, a list item to paste under `rules:`. */
function ruleLine(error: ApiErrorDetails): string {
  const rule = error.resource.startsWith('/')
    ? { nonResourceURLs: [error.resource], verbs: [error.verb] }
    : (({ group, resource }) => ({ apiGroups: [group], resources: [resource], verbs: [error.verb] }))(splitResource(error.resource));
  return `- ${stringify(rule, { collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0 }).trim()}`;
}

function forbidden(error: ApiErrorDetails): RemediationStep[] {
  const where = error.namespace ? `its Role in namespace ${error.namespace}` : 'its ClusterRole';
  return [text(`Let rollout-doctor ${error.verb} ${error.resource}${error.namespace ? ` in namespace ${error.namespace}` : ''}: add this rule to ${where} (deploy/rbac.yaml grants them all): ${ruleLine(error)}`)];
}

function unauthorized(ctx: ApiContext): RemediationStep[] {
  const { api } = ctx;
  if (api.isInCluster) {
    return [
      text(`The API server ${api.server} rejected ${api.credentials} (401): its service account was deleted or the token revoked. Check the service account exists, then restart rollout-doctor's Deployment for a fresh token.`),
    ];
  }
  return [text(`The API server ${describeApi(ctx)} rejected ${api.credentials} (401): renew the credentials, then check with: `, clusterKubectl(ctx, ['auth', 'whoami']))];
}

function unreachable(ctx: ApiContext, error: ApiErrorDetails): RemediationStep[] {
  const why = error.reason === 'TLSError' ? 'the TLS handshake failed (check the CA and the server name in the kubeconfig)' : 'could not be reached';
  return [text(`Kubernetes API ${describeApi(ctx)}: ${why}; check that it runs and that rollout-doctor can reach it: `, clusterKubectl(ctx, ['cluster-info']))];
}

function noAnswer(ctx: ApiContext, error: ApiErrorDetails): RemediationStep[] {
  return [text(`No answer from Kubernetes API ${describeApi(ctx)} in time; whether it is unreachable or slow: `, clusterKubectl(ctx, ['cluster-info'])), ...serverSide(ctx, error)];
}

/** The same request by kubectl, when it is a list (what the checks make), and the API server's health. */
function serverSide(ctx: ApiContext, error: ApiErrorDetails): RemediationStep[] {
  const steps: RemediationStep[] = [];
  if (error.verb === 'list' && !error.resource.startsWith('/')) steps.push(kubectl(['get', error.resource, ...(error.namespace ? ['-n', error.namespace] : ['-A'])]));
  steps.push(clusterKubectl(ctx, ['get', '--raw', '/readyz?verbose']));
  return steps;
}

/** Remediation for an unknown result caused by this API error. */
export function apiErrorRemediation(ctx: ApiContext, error: ApiErrorDetails): RemediationStep[] {
  switch (error.reason) {
    case 'Forbidden':
      return forbidden(error);
    case 'Unauthorized':
      return unauthorized(ctx);
    case 'Unreachable':
    case 'TLSError':
      return unreachable(ctx, error);
    case 'Timeout':
      return noAnswer(ctx, error);
    case 'BudgetExceeded':
      return [text(`rollout-doctor bounds the ${error.resource} reads of a check per cycle and this one was over the bound; it is read again next cycle (namespaces.include narrows what the checks read)`)];
    case 'Aborted':
      return [text('The request was cancelled (rollout-doctor is stopping); the next cycle reads it again')];
    default:
      return serverSide(ctx, error);
  }
}
