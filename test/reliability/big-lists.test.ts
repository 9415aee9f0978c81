/**
 * A list of 50,000 pods through the daemon: asked with resourceVersion=0, the API server answers it
 * whole from its watch cache (limit is ignored, as kube-apiserver v1.32 does), in one request of
 * about 25 MB; /health and /metrics keep answering while the cycle reads it, the homelab's results
 * stay what they are, and rollout_doctor_kube_requests_total counts the request. (That the request
 * timeout follows the answer's progress, so a big answer is not cut at it, is test/kube/client.test.ts's.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_CHECKS } from '../../src/checks/index.js';
import { parseConfig } from '../../src/config/load.js';
import { buildServer } from '../../src/http/server.js';
import { createRuntime, demoScenarioDir, resolveConfig, type Runtime } from '../../src/main.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { SimulatedCluster } from '../../src/simulator/types.js';
import { captureLog } from '../helpers/logs.js';
import { cycleWhilePolling } from '../helpers/polling.js';

const PODS = 50_000;
/** The fake apps are not started at their declared addresses here: the checks that reach them sit out. */
const ONLY = ALL_CHECKS.map((c) => c.id).filter((id) => id !== 'endpoint' && id !== 'analysis-preflight');

let dir: string;
let sim: SimulatedCluster;
let runtime: Runtime;
let app: FastifyInstance;
let base: string;

function pod(i: number): Record<string, unknown> {
  const namespace = `bulk-${i % 50}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `worker-${i}`, namespace, uid: `uid-${i}`, labels: { app: 'worker', 'rollouts-pod-template-hash': `h${i % 97}` } },
    spec: { containers: [{ name: 'worker', image: 'registry.example/worker:1.0.0' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'worker', ready: true, restartCount: 0, image: 'registry.example/worker:1.0.0', imageID: '', started: true, state: { running: { startedAt: '2026-11-01T00:00:00Z' } } }] },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rd-big-lists-'));
  sim = await startSimulator({ dir: demoScenarioDir(), objects: Array.from({ length: PODS }, (_, i) => pod(i)), ephemeralAppPorts: true });
  const kubeconfigPath = path.join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfigPath, sim.kubeconfigYaml(), { mode: 0o600 });
  const demo = await resolveConfig({ simulate: { dir: demoScenarioDir() } });
  const config = parseConfig({ ...JSON.parse(JSON.stringify(demo.config)), schedule: '0 * * * * *', timeouts: { requestMs: 20_000, checkMs: 30_000, cycleMs: 60_000 } }, 'big-lists.yaml');
  runtime = await createRuntime({ kubeconfigPath, config: { ...demo, config }, only: ONLY, log: captureLog('warn').log });
  app = buildServer({ health: runtime.health, metrics: runtime.metrics });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
}, 120_000);

afterAll(async () => {
  await app?.close();
  await runtime?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe(`a list of ${PODS.toLocaleString('en')} pods`, () => {
  it('is read in one answer from the watch cache while /health and /metrics keep answering; results stay real', async () => {
    sim.clearRequests();
    const answered = await cycleWhilePolling(runtime, base);
    expect(answered.healthAnswers).toBeGreaterThan(0);
    expect(answered.metricsAnswers).toBeGreaterThan(0);

    // The rollout pods (label rollouts-pod-template-hash) are listed across all namespaces in one answer.
    const lists = sim.requests.filter((r) => r.verb === 'list' && r.resource === 'pods' && r.query?.includes('rollouts-pod-template-hash'));
    expect(lists).toHaveLength(1);
    expect(lists[0]).toMatchObject({ status: 200 });
    expect(lists[0]!.query).toContain('resourceVersion=0');
    expect(lists[0]!.bytes).toBeGreaterThan(10 * 1024 * 1024);

    const results = runtime.daemon.store.results();
    expect(results.filter((r) => r.status !== 'ok').map((r) => `${r.check} ${r.target}: ${r.summary}`)).toEqual([]);
    expect(new Set(results.map((r) => r.check))).toEqual(new Set(ONLY));
    expect(runtime.metrics.text()).toMatch(new RegExp(`^rollout_doctor_kube_requests_total\\{verb="list",resource="pods",code="200"\\} (\\d+)$`, 'm'));
    const counted = Number(/^rollout_doctor_kube_requests_total\{verb="list",resource="pods",code="200"\} (\d+)$/m.exec(runtime.metrics.text())![1]);
    expect(counted).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
