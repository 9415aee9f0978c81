/**
 * One typed error for everything that can go wrong talking to the Kubernetes API, so checks branch
 * on `reason` instead of parsing library exceptions, and so a checker problem is never mistaken for
 * a broken target (it becomes `unknown`, never `fail`).
 */

export type KubeErrorReason =
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'TooManyRequests'
  | 'ServerError'
  | 'BadRequest'
  | 'HttpError'
  | 'Timeout'
  | 'Aborted'
  | 'Unreachable'
  | 'TLSError'
  | 'InvalidResponse'
  | 'BudgetExceeded';

/** Bounded values of the `code` label of rollout_doctor_kube_requests_total besides HTTP statuses. */
export type NonHttpCode = 'timeout' | 'aborted' | 'connection_error' | 'tls_error' | 'invalid_response';

export class KubeError extends Error {
  override readonly name = 'KubeError';
  constructor(
    readonly reason: KubeErrorReason,
    /** HTTP status, 0 when no response arrived. */
    readonly status: number,
    readonly verb: string,
    /** REST resource, e.g. `pods`, `pods/log`, `rollouts.argoproj.io`. */
    readonly resource: string,
    /** What the server or the network said (never a credential). */
    readonly detail: string,
    readonly namespace?: string,
    /** Seconds the server asked us to wait (429). */
    readonly retryAfterSeconds?: number,
  ) {
    super(describe(reason, status, verb, resource, detail, namespace));
  }

  /** The `code` label this error is counted under. */
  get code(): string {
    switch (this.reason) {
      case 'Timeout':
        return 'timeout';
      case 'Aborted':
        return 'aborted';
      case 'Unreachable':
        return 'connection_error';
      case 'TLSError':
        return 'tls_error';
      case 'InvalidResponse':
        return 'invalid_response';
      default:
        return this.status > 0 ? String(this.status) : 'connection_error';
    }
  }
}

function where(namespace?: string): string {
  return namespace ? ` in namespace ${namespace}` : '';
}

function describe(reason: KubeErrorReason, status: number, verb: string, resource: string, detail: string, namespace?: string): string {
  const action = `${verb} ${resource}${where(namespace)}`;
  switch (reason) {
    case 'Forbidden':
      return `rollout-doctor may not ${action} (403 Forbidden)`;
    case 'Unauthorized':
      return `Kubernetes API rejected rollout-doctor's credentials (401 Unauthorized) on ${action}`;
    case 'NotFound':
      return `${action}: not found (404)${detail ? `: ${detail}` : ''}`;
    case 'TooManyRequests':
      return `Kubernetes API throttled ${action} (429 Too Many Requests)`;
    case 'Timeout':
      return `${action} timed out${detail ? ` (${detail})` : ''}`;
    case 'Aborted':
      return `${action} aborted${detail ? ` (${detail})` : ''}`;
    case 'Unreachable':
      return `Kubernetes API unreachable on ${action}: ${detail}`;
    case 'TLSError':
      return `TLS error talking to the Kubernetes API on ${action}: ${detail}`;
    case 'InvalidResponse':
      return `Kubernetes API sent an unusable answer to ${action}: ${detail}`;
    case 'BudgetExceeded':
      return `not attempted: ${detail}`;
    default:
      return `Kubernetes API error on ${action}: ${status}${detail ? ` ${detail}` : ''}`;
  }
}

export function isKubeError(error: unknown): error is KubeError {
  return error instanceof KubeError;
}

/** A KubeError as evidence in a result's details (`details.apiError`): what failed and how. */
export interface ApiErrorDetails {
  reason: KubeErrorReason;
  /** HTTP status, 0 when no answer came. */
  status: number;
  verb: string;
  resource: string;
  namespace?: string;
}

export function apiErrorDetails(error: KubeError): ApiErrorDetails {
  const details: ApiErrorDetails = { reason: error.reason, status: error.status, verb: error.verb, resource: error.resource };
  if (error.namespace) details.namespace = error.namespace;
  return details;
}

/** The KubeError behind an error: itself, or the `cause` a check wrapped it in (`new Error(text, { cause })`). */
export function kubeErrorOf(error: unknown): KubeError | undefined {
  if (isKubeError(error)) return error;
  const cause = error instanceof Error ? error.cause : undefined;
  return isKubeError(cause) ? cause : undefined;
}
