/**
 * rollout-doctor against a simulated cluster (`--simulate DIR`, the demo): starts the simulator,
 * hands back the kubeconfig the daemon connects with (HTTPS, the simulator's CA, its token) and the
 * outbound policy its probes follow (loopback only; fake apps declared at fixed addresses but
 * listening elsewhere are reached where they listen). main.ts loads this module with a dynamic
 * import, only when a simulation is asked for.
 */
import { writeFileSync } from 'node:fs';
import type { OutboundPolicy } from '../probe/http.js';
import { startSimulator } from './index.js';
import type { Fault, SimulatedCluster, SimulatorKubeconfig } from './types.js';

export interface SimulateOptions {
  dir: string;
  /**
   * Start the scenario's fake apps on ephemeral ports (tests that run scenarios in parallel) and
   * point the config's endpoints at them.
   */
  ephemeralAppPorts?: boolean;
  latencyMs?: number;
  faults?: Record<string, Fault>;
  enforceRbacSubject?: string;
  /** Fixed time the checks evaluate at (and the simulator's log clock); default: the scenario's `now`. */
  now?: Date;
  /** Items of every list answer in random order. */
  shuffleLists?: boolean;
  /** Reach the simulated API through this URL instead (tests put a TCP proxy in between). */
  serverUrl?: (simulatorUrl: string) => Promise<string> | string;
  /** Also write the kubeconfig here (mode 0600), for kubectl. */
  kubeconfigPath?: string;
}

export interface Simulation {
  cluster: SimulatedCluster;
  /** The time the checks evaluate at: --simulate-now, else the scenario's scenario.yaml `now`. */
  now?: Date;
  kubeconfig: SimulatorKubeconfig;
  outbound: OutboundPolicy;
  close(): Promise<void>;
}

/** Fake apps declared at fixed addresses but listening elsewhere: probes follow them there. */
function appOrigins(cluster: SimulatedCluster): Map<string, string> | undefined {
  const moved = cluster.apps.filter((app) => app.url !== app.declared);
  return moved.length > 0 ? new Map(moved.map((app) => [new URL(app.declared).origin, app.url])) : undefined;
}

/** `caller` adjusts the policy (a test's name resolution); the simulation keeps traffic on loopback. */
export async function startSimulation(options: SimulateOptions, caller: Partial<OutboundPolicy> = {}): Promise<Simulation> {
  const cluster = await startSimulator({
    dir: options.dir,
    latencyMs: options.latencyMs,
    faults: options.faults,
    enforceRbacSubject: options.enforceRbacSubject,
    now: options.now,
    ephemeralAppPorts: options.ephemeralAppPorts,
    shuffleLists: options.shuffleLists,
  });
  try {
    const kubeconfig = cluster.kubeconfig();
    if (options.serverUrl) {
      const server = await options.serverUrl(cluster.url);
      kubeconfig.clusters = kubeconfig.clusters.map((c) => ({ ...c, server }));
    }
    if (options.kubeconfigPath) writeFileSync(options.kubeconfigPath, cluster.kubeconfigYaml(), { mode: 0o600 });
    return { cluster, now: cluster.now, kubeconfig, outbound: { ...caller, loopbackOnly: true, origins: appOrigins(cluster) }, close: () => cluster.close() };
  } catch (error) {
    await cluster.close();
    throw error;
  }
}
