/**
 * One cycle of the deployed config on the bundled homelab scenario plus the RBAC objects deploy/
 * renders, with the simulator authorizing rollout-doctor's requests as its service account.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { type LoadedConfig, loadConfigFile } from '../../src/config/load.js';
import type { StoredResult } from '../../src/engine/types.js';
import type { WatchFallback } from '../../src/kube/snapshot.js';
import { createRuntime, demoScenarioDir, type Runtime } from '../../src/main.js';
import type { RequestLogEntry } from '../../src/simulator/types.js';
import { type KubeObject, SUBJECT } from './helpers.js';

/** One evaluation time for every run of a test file, so runs differ only in their permissions. */
const NOW = new Date();

export interface EnforcedRun {
  results: StoredResult[];
  requests: RequestLogEntry[];
  /** Kinds the cache listed every cycle because watching them was forbidden. */
  watchFallbacks: WatchFallback[];
}

/**
 * The deployed config with the scenario's endpoints (its fake apps on loopback: the homelab
 * addresses are never contacted from a test) and the scenario's check settings (analysis-preflight
 * queries only the loopback VictoriaMetrics), but the deployed choice of enabled checks: what
 * decides the permissions stays the deployed config's.
 */
export async function simulationConfig(deployed: LoadedConfig, scenarioDir: string): Promise<LoadedConfig> {
  const scenario = await loadConfigFile(path.join(scenarioDir, 'rollout-doctor.yaml'));
  const config = structuredClone(deployed.config);
  config.endpoints = scenario.config.endpoints;
  const checks = config.checks as Record<string, { enabled: boolean }>;
  const scenarioChecks = scenario.config.checks as Record<string, { enabled: boolean }>;
  const setInScenario = Object.keys((parse(readFileSync(scenario.file!, 'utf8')) as { checks?: object } | null)?.checks ?? {});
  for (const id of setInScenario) checks[id] = { ...scenarioChecks[id]!, enabled: checks[id]?.enabled ?? true };
  return { config, file: deployed.file, baseDir: scenario.baseDir };
}

/** No name is resolved: a probe of a host name fails here instead of sending a DNS query. */
const resolveNothing: LookupFunction = (hostname, _options, callback) => {
  const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (tests resolve no names)`), { code: 'ENOTFOUND', hostname });
  (callback as (e: Error) => void)(error);
};

/**
 * Waits (up to 10 s) until every kind that was listed was also asked to be watched (the cache watches
 * right after its list), and the cache took in every watch the API forbade.
 */
async function watchesAnswered(runtime: Runtime): Promise<void> {
  const requests = runtime.simulator!.requests;
  const kind = (r: RequestLogEntry) => `${r.group}/${r.resource}/${r.namespace ?? ''}`;
  for (let i = 0; i < 400; i++) {
    const watched = new Set(requests.filter((r) => r.verb === 'watch').map(kind));
    const forbidden = new Set(requests.filter((r) => r.verb === 'watch' && r.forbidden).map(kind));
    const isAsked = requests.filter((r) => r.verb === 'list' && r.status === 200).every((r) => watched.has(kind(r)));
    if (isAsked && runtime.source.watchFallbacks().length >= forbidden.size) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Runs one cycle on a copy of the homelab scenario with `rbacObjects` added. */
export async function runEnforced(deployed: LoadedConfig, rbacObjects: readonly KubeObject[]): Promise<EnforcedRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'rollout-doctor-deploy-'));
  try {
    cpSync(demoScenarioDir(), dir, { recursive: true });
    writeFileSync(path.join(dir, 'deploy-rbac.yaml'), rbacObjects.map((o) => stringify(o)).join('---\n'));
    const config = await simulationConfig(deployed, dir);
    const runtime = await createRuntime({
      config,
      simulate: { dir, enforceRbacSubject: SUBJECT, ephemeralAppPorts: true, now: NOW },
      // As serve runs: the cache lists each kind, then watches it.
      snapshot: 'watch',
      logLevel: 'silent',
      outbound: { lookup: resolveNothing },
    });
    try {
      await runtime.daemon.runOnce();
      await watchesAnswered(runtime);
      // The next cycle knows which watches were forbidden.
      await runtime.daemon.runOnce();
      return { results: [...runtime.daemon.store.results()], requests: [...runtime.simulator!.requests], watchFallbacks: runtime.daemon.store.lastCycle?.watchFallbacks ?? [] };
    } finally {
      await runtime.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
