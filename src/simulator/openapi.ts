/**
 * OpenAPI v3 as kube-apiserver publishes it (kube-openapi pkg/handler3, served at /openapi/v3): a
 * root listing one document per group version (`serverRelativeURL` with the document's hash), and
 * per group version the REST paths with their operations and the schemas of its kinds, each tagged
 * `x-kubernetes-group-version-kind`.
 *
 * What kubectl needs from it: `kubectl apply` checks that the PATCH operation of a kind takes the
 * `fieldValidation` query parameter (cli-runtime pkg/resource/query_param_verifier_v3.go, v0.32.0)
 * and then leaves validation to the server instead of failing on a missing /openapi/v2; `kubectl
 * explain` renders the kind's schema.
 *
 * Schemas: a custom kind gets its CRD's own `openAPIV3Schema`; built-in kinds get a permissive
 * schema (apiVersion, kind, metadata, and spec/status preserving unknown fields), since the
 * simulator carries none of Kubernetes' generated schemas. Because those schemas carry no patch
 * merge keys, the PATCH operations do not offer strategic merge patch in their request body: kubectl
 * then builds its strategic merge patches from its compiled-in types (kubectl pkg/cmd/apply/
 * patcher.go gvkSupportsPatchOpenAPIV3), whose merge keys are the ones the server uses.
 */
import { createHash } from 'node:crypto';
import { asRecord, type ResourceType } from './kinds.js';
import type { KubeObject, ObjectStore } from './store.js';
import { versionInfo } from './discovery.js';

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** kube-openapi's schema name of a kind: io.k8s.api.<group>.<version>.<Kind> for built-ins, reversed group for the rest. */
export function schemaName(rt: ResourceType, version: string): string {
  if (rt.group === 'apiextensions.k8s.io') return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}.${rt.kind}`;
  if (rt.isBuiltin) {
    const short = rt.group === '' ? 'core' : rt.group.replace(/\.k8s\.io$/, '').replace(/\.authorization$/, '');
    return `io.k8s.api.${short === 'rbac' ? 'rbac' : short}.${version}.${rt.kind}`;
  }
  return `${rt.group.split('.').reverse().join('.')}.${version}.${rt.kind}`;
}

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

const QUERY = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });
const WRITE_PARAMS = [
  QUERY('dryRun', 'When present, indicates that modifications should not be persisted.'),
  QUERY('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  QUERY('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict'),
];

function permissiveSchema(rt: ResourceType): Record<string, unknown> {
  return {
    description: `${rt.kind} (the simulated API server publishes a permissive schema for built-in kinds).`,
    type: 'object',
    properties: {
      apiVersion: { description: 'APIVersion defines the versioned schema of this representation of an object.', type: 'string' },
      kind: { description: 'Kind is a string value representing the REST resource this object represents.', type: 'string' },
      metadata: { description: "Standard object's metadata.", default: {}, allOf: [{ $ref: `#/components/schemas/${OBJECT_META}` }] },
      spec: { description: `Spec of the ${rt.kind}.`, type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      status: { description: `Most recently observed status of the ${rt.kind}.`, type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
  };
}

function crdSchema(crd: KubeObject | undefined, version: string): Record<string, unknown> | undefined {
  const versions = Array.isArray(asRecord(crd?.['spec'])['versions']) ? (asRecord(crd?.['spec'])['versions'] as unknown[]).map(asRecord) : [];
  const v = versions.find((x) => x['name'] === version);
  const schema = asRecord(asRecord(v?.['schema'])['openAPIV3Schema']);
  if (Object.keys(schema).length === 0) return undefined;
  const out = structuredClone(schema);
  const properties = asRecord(out['properties']);
  out['properties'] = { ...properties, metadata: { description: "Standard object's metadata.", allOf: [{ $ref: `#/components/schemas/${OBJECT_META}` }] } };
  return out;
}

function operations(rt: ResourceType, version: string, ref: string): Record<string, unknown> {
  const gvk = { group: rt.group, version, kind: rt.kind };
  const body = (types: string[]) => ({ content: Object.fromEntries(types.map((t) => [t, { schema: { $ref: ref } }])), required: true });
  const ok = { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: ref } } } } };
  const op = (action: string, extra: Record<string, unknown> = {}) => ({
    description: `${action} the specified ${rt.kind}`,
    operationId: `${action}${rt.kind}`,
    responses: ok,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    ...extra,
  });
  const item: Record<string, unknown> = {
    get: op('get'),
    put: op('put', { parameters: WRITE_PARAMS, requestBody: body(['*/*']) }),
    patch: op('patch', {
      parameters: [...WRITE_PARAMS, QUERY('force', 'Force is going to "force" Apply requests.')],
      requestBody: body(['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']),
    }),
    delete: op('delete'),
  };
  const collection: Record<string, unknown> = { get: op('list'), post: op('post', { parameters: WRITE_PARAMS, requestBody: body(['*/*']) }) };
  const base = `/${gvPath(rt.group, version)}${rt.namespaced ? '/namespaces/{namespace}' : ''}/${rt.plural}`;
  return { [base]: collection, [`${base}/{name}`]: item };
}

/** The OpenAPI v3 document of one group version, or undefined when nothing is served there. */
export function groupVersionDocument(store: ObjectStore, served: ResourceType[], group: string, version: string): Record<string, unknown> | undefined {
  const types = served.filter((rt) => rt.group === group && rt.versions.includes(version));
  if (types.length === 0) return undefined;
  const schemas: Record<string, unknown> = {
    [OBJECT_META]: {
      description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      properties: {
        name: { description: 'Name must be unique within a namespace.', type: 'string' },
        namespace: { description: 'Namespace defines the space within which each name must be unique.', type: 'string' },
        labels: { description: 'Map of string keys and values that can be used to organize and categorize (scope and select) objects.', type: 'object', additionalProperties: { type: 'string', default: '' } },
        annotations: { description: 'Annotations is an unstructured key value map stored with a resource.', type: 'object', additionalProperties: { type: 'string', default: '' } },
      },
    },
  };
  let paths: Record<string, unknown> = {};
  for (const rt of types) {
    const name = schemaName(rt, version);
    const schema = (!rt.isBuiltin && crdSchema(store.crdOf(rt), version)) || permissiveSchema(rt);
    schemas[name] = { ...schema, 'x-kubernetes-group-version-kind': [{ group: rt.group, kind: rt.kind, version }] };
    paths = { ...paths, ...operations(rt, version, `#/components/schemas/${name}`) };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: versionInfo().gitVersion }, paths, components: { schemas } };
}

export function hashOf(doc: unknown): string {
  return createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase();
}

/** The /openapi/v3 root: one entry per served group version. */
export function openApiRoot(store: ObjectStore, served: ResourceType[]): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const rt of served) {
    for (const version of rt.versions) {
      const p = gvPath(rt.group, version);
      if (seen.has(p)) continue;
      seen.add(p);
      const doc = groupVersionDocument(store, served, rt.group, version);
      if (doc) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hashOf(doc)}` };
    }
  }
  return { paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : 1))) };
}
