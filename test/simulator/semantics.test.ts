/**
 * The API server semantics the simulator follows (each cited to Kubernetes v1.32.0 in src): lists
 * from the watch cache, resourceVersion and continue rules, writes with resourceVersion and
 * generation, watch streams, server-side tables, protobuf access reviews and impersonation.
 */
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_REVIEW_PROTOS } from '../../src/simulator/access-review-proto.js';
import { startSimulator, type SimulatedCluster } from '../../src/simulator/index.js';
import { get, getJson, pod } from './helpers.js';

const NAMESPACES = ['a', 'b'].map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
const PODS = Array.from({ length: 7 }, (_, i) => pod(i % 2 === 0 ? 'a' : 'b', `p${i}`, { app: 'web' }));
const DEPLOYMENT = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'a', generation: 3 },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1' }, { name: 'proxy', image: 'proxy:1' }] } } },
  status: { replicas: 2, readyReplicas: 2 },
};

let sim: SimulatedCluster;

async function send(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: any }> {
  const res = await get(sim, path, { method, body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), headers: { 'content-type': contentType } });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

/** Reads a watch stream until `until` says stop (or the server ends it). */
async function watch(path: string, until: (events: any[]) => boolean, onOpen?: () => void): Promise<any[]> {
  const res = await get(sim, path);
  expect(res.status).toBe(200);
  const events: any[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  onOpen?.();
  while (!until(events)) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      events.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
    }
  }
  await reader.cancel();
  return events;
}

beforeAll(async () => {
  sim = await startSimulator({ objects: [...NAMESPACES, ...PODS, DEPLOYMENT], bookmarkIntervalMs: 50 });
});
afterAll(() => sim.close());

describe('lists', () => {
  it('answer everything at once for resourceVersion=0 (the watch cache ignores limit)', async () => {
    const { body } = await getJson(sim, '/api/v1/pods?resourceVersion=0&limit=2');
    expect(body.items).toHaveLength(7);
    expect(body.metadata.continue).toBeUndefined();
  });

  it('page a consistent read, later pages from the first page snapshot', async () => {
    const first = await getJson(sim, '/api/v1/pods?limit=3');
    expect(first.body.items.map((p: any) => p.metadata.name)).toEqual(['p0', 'p2', 'p4']);
    expect(first.body.metadata.remainingItemCount).toBe(4);
    sim.apply(pod('a', 'p5', { app: 'late' }));
    const second = await getJson(sim, `/api/v1/pods?limit=10&continue=${first.body.metadata.continue}`);
    expect(second.body.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(['a/p6', 'b/p1', 'b/p3', 'b/p5']);
    expect(second.body.metadata.resourceVersion).toBe(first.body.metadata.resourceVersion);
    sim.remove('v1', 'Pod', 'a', 'p5');
  });

  it('reject continue with a resourceVersion (400) and resourceVersionMatch without one (422)', async () => {
    const first = await getJson(sim, '/api/v1/pods?limit=3');
    const withRv = await getJson(sim, `/api/v1/pods?limit=3&resourceVersion=5&continue=${first.body.metadata.continue}`);
    expect(withRv).toMatchObject({ status: 400, body: { reason: 'BadRequest', message: 'specifying resource version is not allowed when using continue' } });
    const match = await getJson(sim, '/api/v1/pods?resourceVersionMatch=NotOlderThan');
    expect(match).toMatchObject({
      status: 422,
      body: { reason: 'Invalid', message: 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided' },
    });
  });

  it('answer an expired continue token with 410 and a token to continue at the latest revision', async () => {
    const first = await getJson(sim, '/api/v1/pods?limit=3');
    sim.compact();
    const expired = await getJson(sim, `/api/v1/pods?limit=3&continue=${first.body.metadata.continue}`);
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({ reason: 'Expired', code: 410 });
    expect(expired.body.message).toMatch(/^The provided continue parameter is too old to display a consistent list result\./);
    const rest = await getJson(sim, `/api/v1/pods?limit=10&continue=${expired.body.metadata.continue}`);
    expect(rest.body.items.map((p: any) => p.metadata.name)).toEqual(['p6', 'p1', 'p3', 'p5']);
  });

  it('serve a Table with the printer columns when asked (kubectl get)', async () => {
    const res = await get(sim, '/api/v1/namespaces/a/pods', { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
    const table = (await res.json()) as any;
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates']);
    expect(table.rows[0].cells.slice(0, 4)).toEqual(['p0', '0/1', 'Running', '0']);
    expect(table.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'p0' } });
  });
});

describe('writes', () => {
  it('create sets uid, creationTimestamp, resourceVersion; an existing name is 409 AlreadyExists', async () => {
    const created = await send('POST', '/api/v1/namespaces/a/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { k: 'v' } });
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({ name: 'cm', namespace: 'a', uid: expect.any(String), resourceVersion: expect.any(String), creationTimestamp: expect.any(String) });
    const again = await send('POST', '/api/v1/namespaces/a/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } });
    expect(again).toMatchObject({ status: 409, body: { reason: 'AlreadyExists', message: 'configmaps "cm" already exists' } });
    const noNamespace = await send('POST', '/api/v1/namespaces/nowhere/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } });
    expect(noNamespace).toMatchObject({ status: 404, body: { message: 'namespaces "nowhere" not found' } });
  });

  it('update moves resourceVersion; a stale one is 409 Conflict', async () => {
    const current = (await getJson(sim, '/api/v1/namespaces/a/configmaps/cm')).body;
    const updated = await send('PUT', '/api/v1/namespaces/a/configmaps/cm', { ...current, data: { k: 'w' } });
    expect(updated.status).toBe(200);
    expect(Number(updated.body.metadata.resourceVersion)).toBeGreaterThan(Number(current.metadata.resourceVersion));
    const stale = await send('PUT', '/api/v1/namespaces/a/configmaps/cm', { ...current, data: { k: 'x' } });
    expect(stale).toMatchObject({
      status: 409,
      body: { reason: 'Conflict', message: 'Operation cannot be fulfilled on configmaps "cm": the object has been modified; please apply your changes to the latest version and try again' },
    });
  });

  it('generation moves with the spec, not with metadata; status is kept from the main resource', async () => {
    const labelled = await send('PATCH', '/apis/apps/v1/namespaces/a/deployments/web', { metadata: { labels: { team: 'x' } }, status: { replicas: 99 } }, 'application/merge-patch+json');
    expect(labelled.body.metadata.generation).toBe(3);
    expect(labelled.body.status.replicas).toBe(2);
    const image = await send('PATCH', '/apis/apps/v1/namespaces/a/deployments/web', { spec: { template: { spec: { containers: [{ name: 'web', image: 'web:2' }] } } } }, 'application/strategic-merge-patch+json');
    expect(image.body.metadata.generation).toBe(4);
    // Strategic merge: containers merged by name.
    expect(image.body.spec.template.spec.containers).toEqual([{ name: 'web', image: 'web:2' }, { name: 'proxy', image: 'proxy:1' }]);
    const json = await send('PATCH', '/apis/apps/v1/namespaces/a/deployments/web', [{ op: 'replace', path: '/spec/replicas', value: 3 }], 'application/json-patch+json');
    expect(json.body).toMatchObject({ spec: { replicas: 3 }, metadata: { generation: 5 } });
    const failing = await send('PATCH', '/apis/apps/v1/namespaces/a/deployments/web', [{ op: 'test', path: '/spec/replicas', value: 9 }], 'application/json-patch+json');
    expect(failing.status).toBe(422);
  });

  it('scale through the scale subresource', async () => {
    const scale = await send('PATCH', '/apis/apps/v1/namespaces/a/deployments/web/scale', { spec: { replicas: 5 } }, 'application/merge-patch+json');
    expect(scale.body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 5 }, status: { selector: 'app=web' } });
    expect((await getJson(sim, '/apis/apps/v1/namespaces/a/deployments/web')).body.spec.replicas).toBe(5);
  });

  it('delete answers a Status (or the object for pods); a missing one is 404', async () => {
    expect(await send('DELETE', '/api/v1/namespaces/a/configmaps/cm')).toMatchObject({ status: 200, body: { kind: 'Status', status: 'Success', details: { name: 'cm', kind: 'configmaps' } } });
    expect(await send('DELETE', '/api/v1/namespaces/a/configmaps/cm')).toMatchObject({ status: 404, body: { message: 'configmaps "cm" not found' } });
  });
});

describe('watch', () => {
  it('streams the changes after a resourceVersion', async () => {
    const rv = (await getJson(sim, '/api/v1/namespaces/b/pods')).body.metadata.resourceVersion;
    const events = await watch(`/api/v1/namespaces/b/pods?watch=1&resourceVersion=${rv}`, (e) => e.length >= 2, () => {
      setTimeout(() => {
        sim.apply(pod('b', 'p1', { app: 'web', touched: 'yes' }));
        sim.remove('v1', 'Pod', 'b', 'p3');
      }, 20);
    });
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['MODIFIED p1', 'DELETED p3']);
    expect(Number(events[1].object.metadata.resourceVersion)).toBeGreaterThan(Number(events[0].object.metadata.resourceVersion));
  });

  it('starts with the current state as ADDED without a resourceVersion, and sends bookmarks when allowed', async () => {
    const events = await watch('/api/v1/namespaces/a/pods?watch=1&allowWatchBookmarks=true', (e) => e.some((x) => x.type === 'BOOKMARK'));
    expect(events.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata.name)).toEqual(['p0', 'p2', 'p4', 'p6']);
    expect(events.at(-1)).toMatchObject({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: expect.any(String) } } });
  });

  it('answers a too old resourceVersion with an ERROR event 410 Expired', async () => {
    const events = await watch('/api/v1/pods?watch=1&resourceVersion=1', (e) => e.length >= 1);
    expect(events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: expect.stringMatching(/^too old resource version: 1 \(\d+\)$/) } });
  });

  it('ends the stream after timeoutSeconds', async () => {
    const events = await watch('/api/v1/namespaces/a/pods?watch=1&resourceVersion=0&timeoutSeconds=1', () => false);
    expect(events.filter((e) => e.type === 'ADDED')).toHaveLength(4);
  });

  it('reports an object that leaves a label selector as DELETED', async () => {
    const rv = (await getJson(sim, '/api/v1/namespaces/a/pods')).body.metadata.resourceVersion;
    const events = await watch(`/api/v1/namespaces/a/pods?watch=1&labelSelector=app%3Dweb&resourceVersion=${rv}`, (e) => e.length >= 1, () => {
      setTimeout(() => sim.apply(pod('a', 'p0', { app: 'other' })), 20);
    });
    expect(events[0]).toMatchObject({ type: 'DELETED', object: { metadata: { name: 'p0', labels: { app: 'other' } } } });
  });
});

describe('access reviews', () => {
  it('decodes a protobuf SelfSubjectAccessReview (the Kubernetes envelope, published .proto)', async () => {
    const root = new protobuf.Root();
    for (const text of ACCESS_REVIEW_PROTOS) protobuf.parse(text, root, { keepCase: true });
    const Review = root.lookupType('k8s.io.api.authorization.v1.SelfSubjectAccessReview');
    const Unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
    const raw = Review.encode(Review.fromObject({ spec: { resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'a' } } })).finish();
    const envelope = Unknown.encode(Unknown.fromObject({ typeMeta: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview' }, raw })).finish();
    const body = Buffer.concat([Buffer.from('k8s\u0000', 'latin1'), envelope]);
    const answer = await send('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', body, 'application/vnd.kubernetes.protobuf');
    expect(answer).toMatchObject({ status: 201, body: { kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'a' } }, status: { allowed: true } } });
    // Other protobuf bodies: 415.
    expect((await send('POST', '/api/v1/namespaces/a/configmaps', body, 'application/vnd.kubernetes.protobuf')).status).toBe(415);
  });

  it('impersonates a service account with the groups kube-apiserver gives it', async () => {
    sim.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'namespace-readers' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'Group', name: 'system:serviceaccounts:a' }],
    });
    const ssar = { spec: { resourceAttributes: { verb: 'delete', resource: 'pods', namespace: 'b' } } };
    const as = async (user: string, group?: string) =>
      (
        await get(sim, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          method: 'POST',
          body: JSON.stringify(ssar),
          headers: { 'content-type': 'application/json', 'impersonate-user': user, ...(group ? { 'impersonate-group': group } : {}) },
        })
      ).json() as Promise<any>;
    expect((await as('system:serviceaccount:a:builder')).status.allowed).toBe(true);
    // With Impersonate-Group given, those are the groups: the namespace group is not added.
    expect((await as('system:serviceaccount:a:builder', 'team')).status.allowed).toBe(false);
    expect((await as('system:serviceaccount:b:builder')).status.allowed).toBe(false);
  });
});
