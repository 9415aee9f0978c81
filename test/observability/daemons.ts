/**
 * rollout-doctor daemons for the observability tests, built by main.ts exactly as `serve --simulate`
 * builds them, with the scenario's fake apps on ephemeral loopback ports (so these tests can run
 * beside others that serve the same scenarios): the failing scenario (failing-scenario.ts), the
 * incident cases (test/fixtures/incidents/), the healthy bundled homelab, and one whose Kubernetes API
 * is not there.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { defaultConfig, parseConfig, resolvePaths } from '../../src/config/load.js';
import { createRuntime, demoScenarioDir, type RunOptions, serve, type SimulateOptions } from '../../src/main.js';
import { freePort } from '../helpers/prometheus.js';
import { FAILING_NOW, FAILING_RBAC_SUBJECT, writeFailingScenario } from './failing-scenario.js';

export interface RunningDaemon {
  /** 127.0.0.1:PORT, a scrape target. */
  readonly target: string;
  stop(): Promise<void>;
}

/** The failing scenario written to a temporary folder, with the simulate options `serve` gets for it. */
export async function failingScenario(): Promise<{ simulate: SimulateOptions; remove(): void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rd-failing-'));
  await writeFailingScenario(dir);
  return {
    simulate: { dir, now: new Date(FAILING_NOW), enforceRbacSubject: FAILING_RBAC_SUBJECT, ephemeralAppPorts: true },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function serveOn(simulate: SimulateOptions, cleanup: () => void = () => undefined, options: Pick<RunOptions, 'config' | 'only'> = {}): Promise<RunningDaemon> {
  const served = await serve({ simulate, ...options, listen: { host: '127.0.0.1', port: 0 }, logLevel: 'silent' });
  return {
    target: served.url.replace(/^http:\/\//, ''),
    async stop() {
      await served.stop();
      cleanup();
    },
  };
}

/** `serve --simulate <failing scenario>` on 127.0.0.1. */
export async function startFailingDaemon(): Promise<RunningDaemon> {
  const scenario = await failingScenario();
  return serveOn(scenario.simulate, scenario.remove);
}

/** `serve --simulate <bundled homelab>` on 127.0.0.1: nothing fails (one analysis-preflight warn). */
export async function startHomelabDaemon(): Promise<RunningDaemon> {
  return serveOn({ dir: demoScenarioDir(), ephemeralAppPorts: true });
}

const INCIDENTS = path.resolve(import.meta.dirname, '..', 'fixtures', 'incidents');

/**
 * `serve --simulate test/fixtures/incidents/<name>` on 127.0.0.1 with the case's config (its own, else
 * the base's), muting `mute` on top, at the cases' clock, running only the checks `only` names (it
 * shares the event loop with the other daemons of a test).
 */
export async function startIncidentDaemon(name: string, only: string[], mute: { check: string; reason: string }[] = []): Promise<RunningDaemon> {
  const dir = path.join(INCIDENTS, name);
  const own = path.join(dir, 'rollout-doctor.yaml');
  const file = existsSync(own) ? own : path.join(INCIDENTS, '_base', 'rollout-doctor.yaml');
  const raw = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const config = resolvePaths(parseConfig({ ...raw, mute }, file), path.dirname(file));
  return serveOn({ dir, now: new Date('2026-11-26T14:00:00Z'), ephemeralAppPorts: true }, undefined, { config: { config, file, baseDir: path.dirname(file) }, only });
}

/**
 * `serve --kubeconfig FILE` whose API server is a loopback port nothing listens on: kube-api finds
 * the API unreachable (RolloutDoctorKubeApiUnreachable), every other check points at it.
 */
export async function startBlindDaemon(): Promise<RunningDaemon> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rd-blind-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'gone', cluster: { server: `https://127.0.0.1:${await freePort()}` } }],
      users: [{ name: 'rollout-doctor', user: { token: 'unused' } }],
      contexts: [{ name: 'gone', context: { cluster: 'gone', user: 'rollout-doctor' } }],
      'current-context': 'gone',
    }),
  );
  const served = await serve({ kubeconfigPath: kubeconfig, config: defaultConfig(), listen: { host: '127.0.0.1', port: 0 }, logLevel: 'silent' });
  return {
    target: served.url.replace(/^http:\/\//, ''),
    async stop() {
      await served.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The /metrics exposition after one cycle on the failing scenario, process metrics included. */
export async function failingExposition(): Promise<string> {
  const scenario = await failingScenario();
  const runtime = await createRuntime({ simulate: scenario.simulate, logLevel: 'silent' });
  try {
    await runtime.daemon.runOnce();
    return runtime.metrics.text();
  } finally {
    await runtime.close();
    scenario.remove();
  }
}
