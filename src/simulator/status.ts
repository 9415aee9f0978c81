/**
 * Kubernetes `Status` bodies with the reasons and messages the real API server sends, so that the
 * daemon's error handling is exercised on the shapes it will meet in a cluster.
 */

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

const MESSAGES: Record<number, string> = {
  400: 'the server rejected our request for an unknown reason',
  401: 'Unauthorized',
  404: 'the server could not find the requested resource',
  405: 'the server does not allow this method on the requested resource',
  409: 'the server reported a conflict',
  410: 'the server reported that the resource is gone',
  429: 'Too many requests, please try again later.',
  500: 'Internal error occurred: simulated fault',
  503: 'the server is currently unable to handle the request',
  504: 'Timeout: request did not complete within the allotted timeout',
};

export function reasonFor(code: number): string {
  return REASONS[code] ?? '';
}

export function defaultMessage(code: number): string {
  return MESSAGES[code] ?? `an error on the server ("simulated fault") has prevented the request from succeeding`;
}

export function statusBody(code: number, message: string, details?: StatusDetails, reason = reasonFor(code)): StatusBody {
  // Key order as the real server writes it (details before code).
  return details
    ? { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code }
    : { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** An answer with a Status body, thrown by handlers and turned into a response by the server. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: StatusDetails,
    readonly reason = reasonFor(code),
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): StatusBody {
    return statusBody(this.code, this.message, this.details, this.reason);
  }
}

export function qualifiedResource(plural: string, group: string): string {
  return group === '' ? plural : `${plural}.${group}`;
}

export function notFound(plural: string, group: string, name: string): ApiError {
  const details: StatusDetails = group === '' ? { name, kind: plural } : { name, group, kind: plural };
  return new ApiError(404, `${qualifiedResource(plural, group)} "${name}" not found`, details);
}

export function unknownResource(): ApiError {
  return new ApiError(404, 'the server could not find the requested resource', {});
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, message);
}
