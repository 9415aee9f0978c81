import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizationV1Api, CoreV1Api, CustomObjectsApi, type V1ResourceAttributes } from '@kubernetes/client-node';
import { startSimulator, type SimulatedCluster } from '../../src/simulator/index.js';
import { apiError, get, kubeConfigFor, pod } from './helpers.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const DOCTOR = 'system:serviceaccount:monitoring:doctor';

function clusterRole(name: string, rules: unknown[]): unknown {
  return { apiVersion: RBAC, kind: 'ClusterRole', metadata: { name }, rules };
}
function role(namespace: string, name: string, rules: unknown[]): unknown {
  return { apiVersion: RBAC, kind: 'Role', metadata: { name, namespace }, rules };
}
function binding(kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, namespace: string | undefined, roleRef: [string, string], subjects: unknown[]): unknown {
  return {
    apiVersion: RBAC,
    kind,
    metadata: namespace ? { name, namespace } : { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleRef[0], name: roleRef[1] },
    subjects,
  };
}
const sa = (name: string, namespace?: string): unknown => (namespace ? { kind: 'ServiceAccount', name, namespace } : { kind: 'ServiceAccount', name });

const POLICY: unknown[] = [
  clusterRole('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]),
  clusterRole('rollout-admin', [{ apiGroups: ['argoproj.io'], resources: ['rollouts'], verbs: ['*'] }]),
  clusterRole('scale-all', [{ apiGroups: ['*'], resources: ['*/scale'], verbs: ['update'] }]),
  clusterRole('metrics-viewer', [{ nonResourceURLs: ['/metrics', '/logs/*'], verbs: ['get'] }]),
  clusterRole('reviewer', [{ apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] }]),
  role('app', 'log-reader', [{ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }]),
  role('app', 'named-cm', [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['app-config'], verbs: ['get', 'list'] }]),
  role('other', 'everything', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]),
  binding('ClusterRoleBinding', 'readers', undefined, ['ClusterRole', 'pod-reader'], [{ kind: 'Group', name: 'readers-group' }]),
  binding('RoleBinding', 'app-pods', 'app', ['ClusterRole', 'pod-reader'], [sa('doctor', 'monitoring')]),
  binding('RoleBinding', 'app-logs', 'app', ['Role', 'log-reader'], [sa('doctor', 'monitoring')]),
  binding('RoleBinding', 'local-sa', 'app', ['Role', 'log-reader'], [sa('builder')]),
  binding('RoleBinding', 'named', 'app', ['Role', 'named-cm'], [{ kind: 'User', name: 'alice' }]),
  // A RoleBinding cannot grant a Role of another namespace.
  binding('RoleBinding', 'cross-ns', 'app', ['Role', 'everything'], [{ kind: 'User', name: 'mallory' }]),
  binding('ClusterRoleBinding', 'monitoring-scale', undefined, ['ClusterRole', 'scale-all'], [{ kind: 'Group', name: 'system:serviceaccounts:monitoring' }]),
  binding('ClusterRoleBinding', 'bob-rollouts', undefined, ['ClusterRole', 'rollout-admin'], [{ kind: 'User', name: 'bob' }]),
  binding('ClusterRoleBinding', 'carol-metrics', undefined, ['ClusterRole', 'metrics-viewer'], [{ kind: 'User', name: 'carol' }]),
  binding('ClusterRoleBinding', 'root', undefined, ['ClusterRole', 'cluster-admin'], [{ kind: 'User', name: 'root' }]),
  // A ServiceAccount subject of a ClusterRoleBinding needs its namespace: this one never matches.
  binding('ClusterRoleBinding', 'sa-without-ns', undefined, ['ClusterRole', 'pod-reader'], [sa('doctor')]),
];

const OBJECTS: unknown[] = [
  ...POLICY,
  pod('app', 'web'),
  pod('other', 'web'),
  { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'r', namespace: 'app' }, spec: {} },
];

describe('SubjectAccessReview: RBAC rule matching', () => {
  let sim: SimulatedCluster;
  let authz: AuthorizationV1Api;
  beforeAll(async () => {
    sim = await startSimulator({ objects: OBJECTS });
    authz = kubeConfigFor(sim).makeApiClient(AuthorizationV1Api);
  });
  afterAll(() => sim.close());

  async function review(user: string, attrs: V1ResourceAttributes, groups?: string[]): Promise<{ allowed: boolean; reason?: string }> {
    const res = await authz.createSubjectAccessReview({ body: { spec: { user, groups, resourceAttributes: attrs } } });
    expect(res.kind).toBe('SubjectAccessReview');
    expect(res.spec.user).toBe(user);
    return { allowed: res.status?.allowed ?? false, reason: res.status?.reason };
  }

  it('grants a RoleBinding only in its namespace, with the real reason text', async () => {
    expect(await review(DOCTOR, { verb: 'list', resource: 'pods', namespace: 'app' })).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "app-pods/app" of ClusterRole "pod-reader" to ServiceAccount "doctor/monitoring"',
    });
    expect(await review(DOCTOR, { verb: 'list', resource: 'pods', namespace: 'other' })).toEqual({ allowed: false });
    expect(await review(DOCTOR, { verb: 'list', resource: 'pods' })).toEqual({ allowed: false });
    expect(await review(DOCTOR, { verb: 'delete', resource: 'pods', namespace: 'app', name: 'web' })).toEqual({ allowed: false });
  });

  it('grants a ClusterRoleBinding everywhere, to groups from spec.groups', async () => {
    const viaGroup = await review('dave', { verb: 'list', resource: 'pods' }, ['readers-group']);
    expect(viaGroup).toEqual({ allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "readers" of ClusterRole "pod-reader" to Group "readers-group"' });
    expect((await review('dave', { verb: 'get', resource: 'pods', namespace: 'any', name: 'x' }, ['readers-group'])).allowed).toBe(true);
    expect((await review('dave', { verb: 'list', resource: 'pods' })).allowed).toBe(false);
  });

  it('matches subresources exactly or by */subresource, and groups only as the review sends them', async () => {
    expect((await review(DOCTOR, { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'app', name: 'web' })).reason).toBe(
      'RBAC: allowed by RoleBinding "app-logs/app" of Role "log-reader" to ServiceAccount "doctor/monitoring"',
    );
    expect((await review(DOCTOR, { verb: 'get', resource: 'pods', subresource: 'exec', namespace: 'app', name: 'web' })).allowed).toBe(false);
    const scaleAttrs = { verb: 'update', group: 'apps', resource: 'deployments', subresource: 'scale', namespace: 'x', name: 'd' };
    // The review names no groups: a binding to the service accounts' group does not apply.
    expect(await review(DOCTOR, scaleAttrs)).toEqual({ allowed: false });
    const scale = await review(DOCTOR, scaleAttrs, ['system:serviceaccounts', 'system:serviceaccounts:monitoring', 'system:authenticated']);
    expect(scale).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "monitoring-scale" of ClusterRole "scale-all" to Group "system:serviceaccounts:monitoring"',
    });
    expect((await review(DOCTOR, { verb: 'update', group: 'apps', resource: 'deployments', namespace: 'x', name: 'd' }, ['system:serviceaccounts:monitoring'])).allowed).toBe(false);
  });

  it('defaults a RoleBinding ServiceAccount subject to the binding namespace', async () => {
    const builder = await review('system:serviceaccount:app:builder', { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'app' });
    expect(builder.reason).toBe('RBAC: allowed by RoleBinding "local-sa/app" of Role "log-reader" to ServiceAccount "builder/app"');
    expect((await review('system:serviceaccount:monitoring:builder', { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'app' })).allowed).toBe(false);
  });

  it('limits rules with resourceNames to requests naming one of them', async () => {
    expect((await review('alice', { verb: 'get', resource: 'configmaps', namespace: 'app', name: 'app-config' })).allowed).toBe(true);
    expect((await review('alice', { verb: 'get', resource: 'configmaps', namespace: 'app', name: 'other' })).allowed).toBe(false);
    // list carries no name, so it never matches a rule with resourceNames
    expect((await review('alice', { verb: 'list', resource: 'configmaps', namespace: 'app' })).allowed).toBe(false);
  });

  it('honours * verbs and groups, non-resource URLs, and bootstrap cluster-admin', async () => {
    expect((await review('bob', { verb: 'delete', group: 'argoproj.io', resource: 'rollouts', namespace: 'app', name: 'r' })).allowed).toBe(true);
    expect((await review('bob', { verb: 'delete', group: 'argoproj.io', resource: 'analysisruns', namespace: 'app' })).allowed).toBe(false);
    expect((await review('bob', { verb: 'get', group: '', resource: 'rollouts', namespace: 'app' })).allowed).toBe(false);
    expect((await review('root', { verb: 'create', group: 'cilium.io', resource: 'ciliumenvoyconfigs', namespace: 'litellm' })).reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "root" of ClusterRole "cluster-admin" to User "root"',
    );
    expect((await review('mallory', { verb: 'get', resource: 'pods', namespace: 'app' })).allowed).toBe(false);
    const nonResource = async (path: string): Promise<boolean> =>
      (await authz.createSubjectAccessReview({ body: { spec: { user: 'carol', nonResourceAttributes: { path, verb: 'get' } } } })).status?.allowed ?? false;
    expect(await nonResource('/metrics')).toBe(true);
    expect(await nonResource('/logs/kubelet.log')).toBe(true);
    expect(await nonResource('/debug/pprof')).toBe(false);
  });

  it('treats system:masters as allowed and rejects a review without user or groups', async () => {
    expect((await review('anyone', { verb: 'delete', resource: 'nodes' }, ['system:masters'])).allowed).toBe(true);
    const invalid = await apiError(authz.createSubjectAccessReview({ body: { spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } } }));
    expect(invalid.code).toBe(422);
    expect(invalid.body.reason).toBe('Invalid');
  });

  it('answers SelfSubjectAccessReviews for the daemon (allowed when RBAC is not enforced)', async () => {
    const res = await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb: 'create', group: 'cilium.io', resource: 'ciliumenvoyconfigs' } } } });
    expect(res.kind).toBe('SelfSubjectAccessReview');
    expect(res.status?.allowed).toBe(true);
    expect(sim.requests.at(-1)).toMatchObject({ resource: 'selfsubjectaccessreviews', verb: 'create', status: 201, user: 'kubernetes-admin' });
  });

  it('answers LocalSubjectAccessReviews whose attributes name the path namespace', async () => {
    const res = await authz.createNamespacedLocalSubjectAccessReview({
      namespace: 'app',
      body: { spec: { user: DOCTOR, resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'app' } } },
    });
    expect(res.status?.allowed).toBe(true);
    expect(res.metadata?.namespace).toBe('app');
    const elsewhere = await apiError(
      authz.createNamespacedLocalSubjectAccessReview({ namespace: 'app', body: { spec: { user: DOCTOR, resourceAttributes: { verb: 'list', resource: 'pods' } } } }),
    );
    expect(elsewhere.body).toMatchObject({
      code: 422,
      message: 'LocalSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes.namespace: Invalid value: "": must match metadata.namespace',
    });
  });

  it('rejects a review with both resource and non-resource attributes (422)', async () => {
    const both = await apiError(
      authz.createSubjectAccessReview({ body: { spec: { user: 'carol', resourceAttributes: { verb: 'get', resource: 'pods' }, nonResourceAttributes: { path: '/metrics', verb: 'get' } } } }),
    );
    expect(both.body).toMatchObject({
      code: 422,
      reason: 'Invalid',
      message:
        'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.nonResourceAttributes: Invalid value: authorization.NonResourceAttributes{Path:"/metrics", Verb:"get"}: cannot be specified in combination with resourceAttributes',
    });
  });
});

describe('enforceRbacSubject: the daemon under RBAC', () => {
  let sim: SimulatedCluster;
  beforeAll(async () => {
    sim = await startSimulator({ objects: OBJECTS, enforceRbacSubject: DOCTOR });
  });
  afterAll(() => sim.close());

  it('serves what the subject may read', async () => {
    const core = kubeConfigFor(sim).makeApiClient(CoreV1Api);
    expect((await core.listNamespacedPod({ namespace: 'app' })).items).toHaveLength(1);
    expect(await core.readNamespacedPodLog({ namespace: 'app', name: 'web' })).toBe('');
    expect(sim.requests.at(-1)).toMatchObject({ resource: 'pods/log', verb: 'get', user: DOCTOR, forbidden: false, status: 200 });
  });

  it('answers 403 with the real message for everything else', async () => {
    const kc = kubeConfigFor(sim);
    const core = kc.makeApiClient(CoreV1Api);
    const cluster = await apiError(core.listPodForAllNamespaces());
    expect(cluster.code).toBe(403);
    expect(cluster.body).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      message: `pods is forbidden: User "${DOCTOR}" cannot list resource "pods" in API group "" at the cluster scope`,
      details: { kind: 'pods' },
    });
    expect(sim.requests.at(-1)).toMatchObject({ forbidden: true, status: 403, verb: 'list' });
    const otherNs = await apiError(core.listNamespacedPod({ namespace: 'other' }));
    expect(otherNs.body.message).toBe(`pods is forbidden: User "${DOCTOR}" cannot list resource "pods" in API group "" in the namespace "other"`);
    const rollout = await apiError(
      kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: 'app', plural: 'rollouts', name: 'r' }),
    );
    expect(rollout.body.message).toBe(
      `rollouts.argoproj.io "r" is forbidden: User "${DOCTOR}" cannot get resource "rollouts" in API group "argoproj.io" in the namespace "app"`,
    );
    const log = await apiError(core.readNamespacedPodLog({ namespace: 'other', name: 'web' }));
    expect(log.body.message).toBe(`pods "web" is forbidden: User "${DOCTOR}" cannot get resource "pods/log" in API group "" in the namespace "other"`);
    // A 403 is decided before existence: no leak of what is there.
    expect((await apiError(core.readNamespacedPod({ namespace: 'other', name: 'missing' }))).code).toBe(403);
  });

  it('evaluates SelfSubjectAccessReviews for the subject (creating them is bootstrap policy)', async () => {
    const authz = kubeConfigFor(sim).makeApiClient(AuthorizationV1Api);
    const can = async (attrs: V1ResourceAttributes): Promise<boolean> =>
      (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attrs } } })).status?.allowed ?? false;
    expect(await can({ verb: 'list', resource: 'pods', namespace: 'app' })).toBe(true);
    expect(await can({ verb: 'list', resource: 'pods' })).toBe(false);
    expect(await can({ verb: 'create', group: 'cilium.io', resource: 'ciliumenvoyconfigs', namespace: 'litellm' })).toBe(false);
  });

  it('needs create on subjectaccessreviews to create one, granted at run time', async () => {
    const authz = kubeConfigFor(sim).makeApiClient(AuthorizationV1Api);
    const body = { spec: { user: 'bob', resourceAttributes: { verb: 'get', group: 'argoproj.io', resource: 'rollouts', namespace: 'app' } } };
    const denied = await apiError(authz.createSubjectAccessReview({ body }));
    expect(denied.code).toBe(403);
    expect(denied.body.message).toBe(
      `subjectaccessreviews.authorization.k8s.io is forbidden: User "${DOCTOR}" cannot create resource "subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope`,
    );
    sim.apply(binding('ClusterRoleBinding', 'doctor-reviews', undefined, ['ClusterRole', 'reviewer'], [sa('doctor', 'monitoring')]));
    const res = await authz.createSubjectAccessReview({ body });
    expect(res.status?.allowed).toBe(true);
    expect(sim.remove(RBAC, 'ClusterRoleBinding', undefined, 'doctor-reviews')).toBe(true);
    expect((await apiError(authz.createSubjectAccessReview({ body }))).code).toBe(403);
  });

  it('lets discovery and /version through (bootstrap system:discovery)', async () => {
    expect((await get(sim, '/version')).status).toBe(200);
    expect((await get(sim, '/apis')).status).toBe(200);
  });
});
