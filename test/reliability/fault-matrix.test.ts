/**
 * The fault matrix (reliability issue): the daemon on the simulated homelab, its HTTP server on
 * loopback, and the Kubernetes API reached through a TCP proxy that can go down. For each fault the
 * daemon keeps answering /health and /metrics while the cycle runs, the checks that depend on the
 * broken resource turn `unknown` with the reason (never `fail`), the others keep their real status,
 * rollout_doctor_kube_requests_total{code} shows it, and everything recovers on the next cycle once
 * the fault is cleared through the simulator's programmatic API.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_CHECKS } from '../../src/checks/index.js';
import { parseConfig } from '../../src/config/load.js';
import type { Status } from '../../src/engine/types.js';
import { buildServer } from '../../src/http/server.js';
import { KIND_SPECS } from '../../src/kube/snapshot.js';
import { createRuntime, demoScenarioDir, resolveConfig, type Runtime } from '../../src/main.js';
import type { Fault } from '../../src/simulator/types.js';
import { captureLog } from '../helpers/logs.js';
import { cycleWhilePolling } from '../helpers/polling.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

// Generous: the first cycles of a loaded CI machine must not time out by themselves.
const REQUEST_MS = 1500;

let runtime: Runtime;
let app: FastifyInstance;
let base: string;
let proxy: TcpProxy;
let baseline: Map<string, Status>;

const key = (check: string, target: string) => `${check} ${target}`;

/** Checks that list a kind served at this REST resource (`pods`, `rollouts`, ...). */
function checksListing(resource: string): Set<string> {
  if (resource.includes('/')) return new Set(ALL_CHECKS.filter((c) => (c.reads ?? []).some((r) => r === resource)).map((c) => c.id));
  const kinds = Object.entries(KIND_SPECS)
    .filter(([, spec]) => spec.resource === resource)
    .map(([kind]) => kind);
  return new Set(ALL_CHECKS.filter((c) => c.needs.some((k) => kinds.includes(k))).map((c) => c.id));
}

function requestCount(metrics: string, resource: string, code: string): number {
  let total = 0;
  for (const line of metrics.split('\n')) {
    if (line.startsWith('rollout_doctor_kube_requests_total{') && line.includes(`code="${code}"`) && (resource === '*' || line.includes(`resource="${resource}`))) {
      total += Number(line.split(' ').pop());
    }
  }
  return total;
}

function statuses(): Map<string, { status: Status; summary: string; reason: string; blockedBy?: unknown }> {
  return new Map(
    runtime.daemon.store.results().map((r) => [key(r.check, r.target), { status: r.status, summary: r.summary, reason: String(r.details.reason ?? ''), blockedBy: r.details.blockedBy }]),
  );
}

beforeAll(async () => {
  const demo = await resolveConfig({ simulate: { dir: demoScenarioDir() } });
  const config = parseConfig({ ...JSON.parse(JSON.stringify({ ...demo.config, mute: [] })), schedule: '*/30 * * * * *', timeouts: { requestMs: REQUEST_MS, checkMs: 8000, cycleMs: 12000 } }, 'fault-matrix.yaml');
  runtime = await createRuntime({
    config: { ...demo, config },
    log: captureLog('warn').log,
    simulate: {
      dir: demoScenarioDir(),
      ephemeralAppPorts: true,
      serverUrl: async (url) => {
        const target = new URL(url);
        proxy = await startTcpProxy(target.hostname, Number(target.port));
        return `https://127.0.0.1:${proxy.port}`;
      },
    },
  });
  app = buildServer({ health: runtime.health, metrics: runtime.metrics });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  await runtime.daemon.runOnce();
  baseline = new Map([...statuses()].map(([k, v]) => [k, v.status]));
});

afterAll(async () => {
  await app?.close();
  await runtime?.close();
  await proxy?.close();
});

describe('baseline', () => {
  it('the homelab is healthy before any fault (its one warn: the Sympozium template outside the demo allowedHosts)', () => {
    expect([...baseline.entries()].filter(([, s]) => s !== 'ok')).toEqual([[key('analysis-preflight', 'sympozium-system/sympozium-healthz'), 'warn']]);
    expect(baseline.size).toBeGreaterThanOrEqual(ALL_CHECKS.length);
  });
});

interface FaultCase {
  name: string;
  resource: string;
  fault?: Fault;
  latencyMs?: number;
  proxyDown?: boolean;
  code: string;
  reason: string;
}

const CASES: FaultCase[] = [
  { name: '403 on one resource', resource: 'pods', fault: 403, code: '403', reason: 'rollout-doctor may not list pods' },
  { name: '500', resource: 'deployments', fault: 500, code: '500', reason: 'Kubernetes API error on list deployments.apps: 500' },
  { name: '429 past the deadline', resource: 'rollouts', fault: 429, code: '429', reason: 'throttled' },
  { name: 'a hang', resource: 'pods', fault: 'hang', code: 'timeout', reason: `timed out (no answer within ${REQUEST_MS} ms)` },
  { name: 'malformed JSON', resource: 'services', fault: 'garbage', code: 'invalid_response', reason: 'malformed JSON' },
  { name: 'a truncated body', resource: 'replicasets', fault: 'truncate', code: 'invalid_response', reason: 'cut off' },
  { name: 'pod logs answering 500', resource: 'pods/log', fault: 500, code: '500', reason: 'pods/log' },
  { name: 'pod logs hanging', resource: 'pods/log', fault: 'hang', code: 'timeout', reason: 'timed out' },
  { name: 'auth failure (401) everywhere', resource: '*', fault: 401, code: '401', reason: "rejected rollout-doctor's credentials" },
  { name: 'latency above the request timeout', resource: '*', latencyMs: REQUEST_MS + 200, code: 'timeout', reason: 'timed out' },
  { name: 'the API unreachable', resource: '*', proxyDown: true, code: 'connection_error', reason: 'Kubernetes API unreachable' },
];

describe.each(CASES)('fault: $name', (fault) => {
  it('keeps serving, turns the dependent checks unknown with the reason, the rest keep their status, and recovers', async () => {
    const sim = runtime.simulator!;
    const before = requestCount(runtime.metrics.text(), fault.resource, fault.code);
    if (fault.fault !== undefined) sim.setFault(fault.resource, fault.fault);
    if (fault.latencyMs) sim.setLatency(fault.latencyMs);
    if (fault.proxyDown) await proxy.down();
    try {
      const answered = await cycleWhilePolling(runtime, base);
      expect(answered.healthAnswers).toBeGreaterThan(0);
      expect(answered.metricsAnswers).toBeGreaterThan(0);
    } finally {
      sim.clearFault();
      sim.setLatency(0);
      if (fault.proxyDown) await proxy.up();
    }
    // Every check that calls the API (kube-api's GET /version is neither a list nor a targeted read).
    const callers = ALL_CHECKS.filter((c) => c.needs.length > 0 || (c.reads ?? []).length > 0 || c.id === 'kube-api').map((c) => c.id);
    const affected = fault.resource === '*' ? new Set(callers) : checksListing(fault.resource);
    expect(affected.size).toBeGreaterThan(0);
    const during = statuses();
    // Never a new fail or warn for our own inability to look: every result keeps its real status, or
    // is unknown with the reason — and only in a check that lists the broken resource (a check marks
    // just the targets that depend on the failed list).
    let unknownCount = 0;
    for (const [k, { status, summary, reason, blockedBy }] of during) {
      if (status === 'unknown' && baseline.get(k) !== 'unknown') {
        unknownCount++;
        expect(affected.has(k.split(' ')[0]!), `${k} turned unknown but does not list ${fault.resource}`).toBe(true);
        expect(reason, k).toContain(fault.reason);
        // The whole API down or refusing us is one cause: kube-api says it, the others point at it.
        if (fault.resource === '*') expect(k.startsWith('kube-api ') ? summary : blockedBy, k).toEqual(k.startsWith('kube-api ') ? expect.stringContaining('Kubernetes API') : 'kube-api');
        else expect(summary, k).toContain(fault.reason);
      } else {
        expect({ k, status }).toEqual({ k, status: baseline.get(k) });
      }
    }
    expect(unknownCount).toBeGreaterThan(0);
    for (const k of baseline.keys()) if (!during.has(k)) expect(affected.has(k.split(' ')[0]!), `${k} vanished`).toBe(true);
    expect(requestCount(runtime.metrics.text(), fault.resource, fault.code)).toBeGreaterThan(before);

    await runtime.daemon.runOnce();
    expect(new Map([...statuses()].map(([k, v]) => [k, v.status]))).toEqual(baseline);
  });
});

describe('429 that clears within the deadline', () => {
  it('is retried after Retry-After and the cycle succeeds', async () => {
    const sim = runtime.simulator!;
    sim.setFault('rollouts', 429);
    setTimeout(() => sim.clearFault('rollouts'), 200);
    const before = requestCount(runtime.metrics.text(), 'rollouts', '429');
    await runtime.daemon.runOnce();
    expect(requestCount(runtime.metrics.text(), 'rollouts', '429')).toBeGreaterThan(before);
    expect(new Map([...statuses()].map(([k, v]) => [k, v.status]))).toEqual(baseline);
  });
});

describe('a custom kind answering 404', () => {
  it('is an absent CRD, not an API fault: no check turns unknown for it', async () => {
    const sim = runtime.simulator!;
    sim.setFault('ciliumenvoyconfigs', 404);
    try {
      await runtime.daemon.runOnce();
    } finally {
      sim.clearFault();
    }
    const unknown = runtime.daemon.store.results().filter((r) => r.status === 'unknown');
    expect(unknown.map((r) => `${r.check} ${r.target}: ${r.summary}`)).toEqual([]);
    await runtime.daemon.runOnce();
  });
});
