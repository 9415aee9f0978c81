/**
 * The simulated cluster in its own process (compiled, from dist/), driven over IPC, so that its CPU
 * time and memory are never counted as the daemon's.
 */
import { writeFileSync } from 'node:fs';
import { startSimulator } from '../../dist/simulator/index.js';
import { serveRpc } from './rpc-child.mjs';

let simulator;

serveRpc({
  async start({ dir, objects, latencyMs, faults, ephemeralAppPorts, kubeconfigPath }) {
    simulator = await startSimulator({ dir, objects, latencyMs, faults, ephemeralAppPorts, requestLogLimit: 100_000 });
    writeFileSync(kubeconfigPath, simulator.kubeconfigYaml(), { mode: 0o600 });
    return { url: simulator.url, apps: simulator.apps };
  },
  /** What the daemon asked since the last clear: requests, body bytes read, and by resource. */
  stats() {
    const byResource = {};
    let bytes = 0;
    let unanswered = 0;
    for (const entry of simulator.requests) {
      bytes += entry.bytes;
      if (entry.status === 0) unanswered++;
      const key = `${entry.verb} ${entry.resource || entry.path}`;
      byResource[key] = (byResource[key] ?? 0) + 1;
    }
    return { requests: simulator.requests.length, bytes, unanswered, byResource };
  },
  clear() {
    simulator.clearRequests();
  },
  setLatency({ ms }) {
    simulator.setLatency(ms);
  },
  setFault({ resource, fault }) {
    simulator.setFault(resource, fault);
  },
  clearFault({ resource }) {
    simulator.clearFault(resource);
  },
  apply({ objects }) {
    for (const object of objects) simulator.apply(object);
  },
  remove({ refs }) {
    let removed = 0;
    for (const r of refs) if (simulator.remove(r.apiVersion, r.kind, r.namespace, r.name)) removed++;
    return removed;
  },
  async close() {
    await simulator?.close();
    simulator = undefined;
  },
});
