/**
 * The simulated cluster: a Kubernetes API server on loopback that the real client-node talks to,
 * plus the scenario's fake app endpoints. What the CLI's demo mode, the tests and the benchmarks
 * start.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { FakeAppServer, isLoopbackHost, parseFakeApp } from './fake-apps.js';
import { asRecord, SIMULATOR_GROUP } from './kinds.js';
import { normalizeObjects, readScenarioDocuments, readScenarioManifest, scenarioLogsDir } from './load.js';
import { RbacAuthorizer } from './rbac.js';
import { ApiServer, faultKey } from './server.js';
import { servingIdentity } from './tls.js';
import { ObjectStore, type KubeObject } from './store.js';
import type { FakeAppHandle, SimulatedCluster, SimulatorKubeconfig, SimulatorOptions } from './types.js';

export { loadScenario, listScenarioFiles, parseObjects, ScenarioError } from './load.js';
export { isLoopbackHost } from './fake-apps.js';
export { ADMIN_USER } from './server.js';
export type * from './types.js';

/** The bundled healthy homelab (the runbook's stack). */
export const HOMELAB_SCENARIO_DIR = fileURLToPath(new URL('./scenarios/homelab/', import.meta.url));

const CONTEXT = 'simulator';

function asObject(value: unknown, what: string): KubeObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what}: not an object`);
  return structuredClone(value) as KubeObject;
}

/**
 * Starts the API server (and the scenario's fake apps unless `startApps: false`). Transport: HTTPS
 * with a certificate signed by a CA generated in memory (the kubeconfig carries it as
 * certificate-authority-data). Identity: the kubeconfig carries a bearer token generated for this
 * simulator; requests with it are `kubernetes-admin` in group system:masters (or
 * `enforceRbacSubject` under RBAC), requests without it get 401.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatedCluster> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new Error(`simulator: host ${host} is not a loopback address; only 127.0.0.0/8 and ::1 are allowed`);
  }
  const store = new ObjectStore();
  const dir = options.dir === undefined ? undefined : path.resolve(options.dir);
  // Relative files a FakeApp names (a token file) belong to the folder that declares it.
  const appFolders = new Map<string, string>();
  if (dir !== undefined) {
    const docs = await readScenarioDocuments(dir);
    normalizeObjects(store, docs);
    for (const d of docs) {
      store.put(d.object);
      if (d.object['kind'] === 'FakeApp') appFolders.set(String(asRecord(d.object['metadata'])['name']), d.folder);
    }
  }
  for (const [i, o] of (options.objects ?? []).entries()) store.put(asObject(o, `options.objects[${i}]`));

  // Malformed or non-loopback fake apps fail the start before anything listens.
  const appSpecs = options.startApps === false ? [] : store.objects(`fakeapps.${SIMULATOR_GROUP}`).map((o) => parseFakeApp(o, appFolders.get(String(asRecord(o['metadata'])['name'])) ?? dir));

  store.markLoaded();
  const token = randomBytes(24).toString('hex');
  const now = options.now ?? (dir === undefined ? undefined : (await readScenarioManifest(dir)).now);
  const fixedNow = now?.getTime();
  const api = new ApiServer({
    store,
    authorizer: new RbacAuthorizer(store),
    token,
    logsDir: dir === undefined ? undefined : await scenarioLogsDir(dir),
    now: () => fixedNow ?? Date.now(),
    enforceRbacSubject: options.enforceRbacSubject,
    retryAfterSeconds: options.retryAfterSeconds ?? 1,
    latencyMs: options.latencyMs ?? 0,
    faults: options.faults ?? {},
    requestLogLimit: options.requestLogLimit ?? 10_000,
    shuffle: options.shuffleLists ? Math.random : undefined,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    watchCache: options.watchCache ?? true,
  });
  const url = await api.listen(host, options.port ?? 0);
  const caPem = (await servingIdentity(host)).caPem;
  const caData = Buffer.from(caPem).toString('base64');

  const appServers: FakeAppServer[] = [];
  const apps: FakeAppHandle[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all([api.close(), ...appServers.map((a) => a.close())]);
    // Listening handles are released in libuv's close phase, after the 'close' callbacks: wait
    // for it so that nothing is reported open once close() resolves.
    await delay(0);
  };
  try {
    for (const spec of appSpecs) {
      const server = new FakeAppServer(spec);
      appServers.push(server);
      apps.push(await server.start(options.ephemeralAppPorts ? 0 : undefined));
    }
  } catch (err) {
    await closeAll();
    throw err;
  }

  const kubeconfig = (): SimulatorKubeconfig => ({
    clusters: [{ name: CONTEXT, server: url, caData }],
    users: [{ name: CONTEXT, token }],
    contexts: [{ name: CONTEXT, cluster: CONTEXT, user: CONTEXT }],
    currentContext: CONTEXT,
  });

  let closing: Promise<void> | undefined;
  return {
    url,
    token,
    caPem,
    now,
    kubeconfig,
    kubeconfigYaml: () =>
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: CONTEXT, cluster: { server: url, 'certificate-authority-data': caData } }],
        users: [{ name: CONTEXT, user: { token } }],
        contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: CONTEXT } }],
        'current-context': CONTEXT,
      }),
    setLatency: (ms) => {
      api.latencyMs = ms;
    },
    setFault: (resource, fault) => api.setFault(resource, fault),
    clearFault: (resource) => {
      if (resource === undefined) api.faults.clear();
      else api.faults.delete(faultKey(resource, store.registry));
    },
    apply: (object) => {
      store.write(asObject(object, 'apply'));
    },
    compact: () => {
      store.compact();
      api.snapshots.clear();
    },
    remove: (apiVersion, kind, namespace, name) => store.remove(apiVersion, kind, namespace, name),
    objects: (kind) => store.objects(kind),
    get requests() {
      return api.requests;
    },
    clearRequests: () => api.clearRequests(),
    apps,
    close: () => {
      closing ??= closeAll();
      return closing;
    },
  };
}
