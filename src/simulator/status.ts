/**
 * Kubernetes `Status` bodies with the reasons and messages the real API server sends
 * (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go, v1.32.0), so that clients' error
 * handling is exercised on the shapes they will meet in a cluster.
 */

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, string>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
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

/** NewGenericServerResponse's texts for codes without a more specific message. */
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

export function statusBody(code: number, message: string, details?: StatusDetails, reason = reasonFor(code), listContinue?: string): StatusBody {
  const metadata: Record<string, string> = listContinue ? { continue: listContinue } : {};
  // Key order as the real server writes it (details before code).
  return details
    ? { kind: 'Status', apiVersion: 'v1', metadata, status: 'Failure', message, reason, details, code }
    : { kind: 'Status', apiVersion: 'v1', metadata, status: 'Failure', message, reason, code };
}

/** An answer with a Status body, thrown by handlers and turned into a response by the server. */
export class ApiError extends Error {
  /** A 410 for an expired continue token carries a token to continue inconsistently. */
  listContinue: string | undefined;

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
    return statusBody(this.code, this.message, this.details, this.reason, this.listContinue);
  }
}

export function qualifiedResource(plural: string, group: string): string {
  return group === '' ? plural : `${plural}.${group}`;
}

function resourceDetails(plural: string, group: string, name: string): StatusDetails {
  const details: StatusDetails = {};
  if (name !== '') details.name = name;
  if (group !== '') details.group = group;
  details.kind = plural;
  return details;
}

export function notFound(plural: string, group: string, name: string): ApiError {
  return new ApiError(404, `${qualifiedResource(plural, group)} "${name}" not found`, resourceDetails(plural, group, name));
}

export function alreadyExists(plural: string, group: string, name: string): ApiError {
  return new ApiError(409, `${qualifiedResource(plural, group)} "${name}" already exists`, resourceDetails(plural, group, name), 'AlreadyExists');
}

/** The optimistic-concurrency failure (apiserver pkg/registry/rest OptimisticLockErrorMsg). */
export function conflict(plural: string, group: string, name: string): ApiError {
  return new ApiError(
    409,
    `Operation cannot be fulfilled on ${qualifiedResource(plural, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    resourceDetails(plural, group, name),
  );
}

export function methodNotSupported(plural: string, group: string, action: string): ApiError {
  const details: StatusDetails = group === '' ? { kind: plural } : { group, kind: plural };
  return new ApiError(405, `${action} is not supported on resources of kind "${qualifiedResource(plural, group)}"`, details);
}

/**
 * NewInvalid: `<Kind>.<group> "<name>" is invalid: <field>: <message>` (several errors in brackets,
 * comma-separated), each cause with its field.
 */
export function invalid(kind: string, group: string, name: string, causes: { type: string; field: string; message: string }[]): ApiError {
  const each = causes.map((c) => `${c.field}: ${c.message}`);
  const aggregated = each.length === 1 ? each[0] : `[${each.join(', ')}]`;
  const details: StatusDetails = { name, group, kind, causes: causes.map((c) => ({ reason: c.type, message: c.message, field: c.field })) };
  if (name === '') delete details.name;
  if (group === '') delete details.group;
  return new ApiError(422, `${group === '' ? kind : `${kind}.${group}`} "${name}" is invalid: ${aggregated}`, details);
}

/** The generic 404 of the API's own paths (go-restful's unmatched route, reported through NewGenericServerResponse). */
export function unknownResource(): ApiError {
  return new ApiError(404, 'the server could not find the requested resource', {});
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, message);
}
