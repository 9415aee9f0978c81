/** Shared helpers of the simulator tests: temporary scenario folders and clients on loopback. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Agent, fetch as undiciFetch, type RequestInit as UndiciRequestInit } from 'undici';
import type { SimulatedCluster } from '../../src/simulator/index.js';

const agents = new WeakMap<SimulatedCluster, Agent>();

/** An undici dispatcher that trusts the simulator's CA (as a kubeconfig's certificate-authority-data does). */
export function trusting(sim: SimulatedCluster): Agent {
  let agent = agents.get(sim);
  if (!agent) {
    agent = new Agent({ connect: { ca: sim.caPem } });
    agents.set(sim, agent);
  }
  return agent;
}

/** Writes `files` (relative path -> content) into a fresh temporary folder. */
export async function writeScenario(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rollout-doctor-sim-'));
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  return dir;
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

export function kubeConfigFor(sim: SimulatedCluster): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions(sim.kubeconfig());
  return kc;
}

/** fetch against the simulator over TLS (its CA trusted) with the daemon's token (or another Authorization). */
export function get(sim: SimulatedCluster, pathAndQuery: string, init: UndiciRequestInit = {}): ReturnType<typeof undiciFetch> {
  return undiciFetch(`${sim.url}${pathAndQuery}`, {
    ...init,
    dispatcher: trusting(sim),
    headers: { authorization: `Bearer ${sim.token}`, ...(init.headers as Record<string, string> | undefined) },
  });
}

/** fetch against the simulator without the daemon's token. */
export function anonymous(sim: SimulatedCluster, pathAndQuery: string, init: UndiciRequestInit = {}): ReturnType<typeof undiciFetch> {
  return undiciFetch(`${sim.url}${pathAndQuery}`, { ...init, dispatcher: trusting(sim) });
}

export async function getJson(sim: SimulatedCluster, pathAndQuery: string): Promise<{ status: number; body: any }> {
  const res = await get(sim, pathAndQuery);
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
}

/** The error client-node threw, with its HTTP code and parsed Status body. */
export async function apiError(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    let body = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // text/plain answers (404 page not found) stay text
      }
    }
    return { code: e.code ?? 0, body };
  }
  throw new Error('expected the call to fail');
}

export function pod(namespace: string | undefined, name: string, labels: Record<string, string> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const metadata: Record<string, unknown> = { name, labels };
  if (namespace !== undefined) metadata['namespace'] = namespace;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: { containers: [{ name: 'main', image: 'busybox' }] },
    status: { phase: 'Running' },
    ...extra,
  };
}
