/**
 * SubjectAccessReview, SelfSubjectAccessReview and LocalSubjectAccessReview as kube-apiserver v1.32
 * answers them (Kubernetes v1.32.0 pkg/registry/authorization/*accessreview/rest.go and
 * pkg/apis/authorization/validation/validation.go):
 *
 * - A review is judged for exactly the user and `spec.groups` it names: nothing is added (the
 *   authenticator's groups belong to real requests, not to reviews). Members of system:masters are
 *   allowed by the privileged-groups authorizer before RBAC.
 * - A SelfSubjectAccessReview is judged for the requester, after impersonation.
 * - Validation: both `resourceAttributes` and `nonResourceAttributes`, or neither, or a
 *   SubjectAccessReview without user and groups: 422 Invalid with the real field messages.
 * - Bodies come as JSON or, as kubectl 1.32 sends them, as `application/vnd.kubernetes.protobuf`:
 *   the Kubernetes envelope (the magic `k8s\0` and a runtime.Unknown holding the message), decoded
 *   with protobufjs from the published .proto definitions (access-review-proto.ts).
 */
import protobuf from 'protobufjs';
import { ACCESS_REVIEW_PROTOS } from './access-review-proto.js';
import { asRecord, type ResourceType } from './kinds.js';
import type { AuthorizationAttributes, RbacAuthorizer, UserInfo } from './rbac.js';
import { mediaType } from './reply.js';
import { ApiError, badRequest, invalid } from './status.js';
import type { KubeObject } from './store.js';
import { decodeBody } from './writes.js';

const PROTOBUF = 'application/vnd.kubernetes.protobuf';
/** apimachinery pkg/runtime/serializer/protobuf/protobuf.go protoEncodingPrefix. */
const ENVELOPE_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

let root: protobuf.Root | undefined;

function protoRoot(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root();
    for (const text of ACCESS_REVIEW_PROTOS) protobuf.parse(text, root, { keepCase: true });
    root.resolveAll();
  }
  return root;
}

/** A protobuf review body as the JSON object the same review would be. */
export function decodeProtobufReview(body: Buffer, kind: string): KubeObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(ENVELOPE_MAGIC)) {
    throw badRequest('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  const r = protoRoot();
  let unknown: Record<string, unknown>;
  let message: Record<string, unknown>;
  try {
    const envelope = r.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
    unknown = envelope.toObject(envelope.decode(body.subarray(4)), { bytes: Buffer, longs: Number }) as Record<string, unknown>;
    const typeMeta = asRecord(unknown['typeMeta']);
    if (typeMeta['kind'] !== undefined && typeMeta['kind'] !== kind) {
      throw badRequest(`the object provided is unrecognized (must be of type ${kind}): no kind "${String(typeMeta['kind'])}" is registered for version "${String(typeMeta['apiVersion'] ?? '')}"`);
    }
    const type = r.lookupType(`k8s.io.api.authorization.v1.${kind}`);
    message = type.toObject(type.decode((unknown['raw'] as Buffer | undefined) ?? Buffer.alloc(0)), { longs: Number, defaults: false }) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw badRequest(`the object provided is unrecognized (must be of type ${kind}): ${(err as Error).message}`);
  }
  const typeMeta = asRecord(unknown['typeMeta']);
  const created = asRecord(asRecord(message['metadata'])['creationTimestamp']);
  if (created['seconds'] !== undefined) {
    asRecord(message['metadata'])['creationTimestamp'] = new Date(Number(created['seconds']) * 1000).toISOString().replace('.000Z', 'Z');
  }
  return { apiVersion: typeMeta['apiVersion'] ?? 'authorization.k8s.io/v1', kind, ...message };
}

/** Parses a review body by its Content-Type: JSON, YAML or protobuf. */
export function decodeReview(contentType: string | undefined, body: Buffer, kind: string): KubeObject {
  if (mediaType(contentType) === PROTOBUF) return decodeProtobufReview(body, kind);
  const decoded = decodeBody(contentType, body);
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) throw badRequest(`the object provided is unrecognized (must be of type ${kind})`);
  return decoded as KubeObject;
}

/** fmt's %#v of an internal authorization.NonResourceAttributes, as field.Invalid prints it. */
function goValue(nonResource: Record<string, unknown> | undefined): string {
  if (!nonResource) return '"null"';
  return `authorization.NonResourceAttributes{Path:${JSON.stringify(String(nonResource['path'] ?? ''))}, Verb:${JSON.stringify(String(nonResource['verb'] ?? ''))}}`;
}

export interface ReviewContext {
  authorizer: RbacAuthorizer;
}

export function review(ctx: ReviewContext, rt: ResourceType, body: KubeObject, requester: UserInfo, pathNamespace: string | undefined): KubeObject {
  const spec = { ...asRecord(body['spec']) };
  const resourceAttributes = spec['resourceAttributes'] === undefined ? undefined : { ...asRecord(spec['resourceAttributes']) };
  const nonResource = spec['nonResourceAttributes'] === undefined ? undefined : asRecord(spec['nonResourceAttributes']);
  const causes: { type: string; field: string; message: string }[] = [];
  if (resourceAttributes && nonResource) {
    causes.push({ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', message: `Invalid value: ${goValue(nonResource)}: cannot be specified in combination with resourceAttributes` });
  }
  if (!resourceAttributes && !nonResource) {
    causes.push({ type: 'FieldValueInvalid', field: 'spec.resourceAttributes', message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified' });
  }
  let user: UserInfo;
  if (rt.kind === 'SelfSubjectAccessReview') {
    user = requester;
  } else {
    const name = typeof spec['user'] === 'string' ? spec['user'] : '';
    const groups = Array.isArray(spec['groups']) ? spec['groups'].filter((g): g is string => typeof g === 'string') : [];
    if (name === '' && groups.length === 0) {
      causes.push({ type: 'FieldValueInvalid', field: 'spec.user', message: 'Invalid value: "": at least one of user or group must be specified' });
    }
    user = { name, groups };
  }
  if (rt.kind === 'LocalSubjectAccessReview') {
    if (resourceAttributes && (resourceAttributes['namespace'] ?? '') !== (pathNamespace ?? '')) {
      causes.push({ type: 'FieldValueInvalid', field: 'spec.resourceAttributes.namespace', message: `Invalid value: ${JSON.stringify(String(resourceAttributes['namespace'] ?? ''))}: must match metadata.namespace` });
    }
    if (nonResource) causes.push({ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', message: `Invalid value: ${goValue(nonResource)}: disallowed on this kind of request` });
  }
  if (causes.length > 0) throw invalid(rt.kind, 'authorization.k8s.io', '', causes);
  let status: { allowed: boolean; reason?: string };
  if (user.groups.includes('system:masters')) {
    status = { allowed: true };
  } else {
    const attrs: AuthorizationAttributes = resourceAttributes
      ? {
          user,
          verb: String(resourceAttributes['verb'] ?? ''),
          resource: String(resourceAttributes['resource'] ?? ''),
          subresource: String(resourceAttributes['subresource'] ?? ''),
          group: String(resourceAttributes['group'] ?? ''),
          namespace: String(resourceAttributes['namespace'] ?? ''),
          name: String(resourceAttributes['name'] ?? ''),
        }
      : { user, verb: String(nonResource?.['verb'] ?? ''), path: String(nonResource?.['path'] ?? '') };
    const decision = ctx.authorizer.authorize(attrs);
    status = decision.reason === '' ? { allowed: decision.allowed } : { allowed: decision.allowed, reason: decision.reason };
  }
  const metadata: Record<string, unknown> = { ...asRecord(body['metadata']), creationTimestamp: null };
  if (pathNamespace !== undefined) metadata['namespace'] = pathNamespace;
  return { kind: rt.kind, apiVersion: 'authorization.k8s.io/v1', metadata, spec, status };
}
