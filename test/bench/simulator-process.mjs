/**
 * The simulated cluster in its own process (compiled, from dist/), driven over IPC, so that its CPU
 * time and memory are never counted as the daemon's.
 */
import { writeFileSync } from 'node:fs';
import { startSimulator } from '../../dist/simulator/index.js';
import { serveRpc } from './rpc-child.mjs';

let simulator;
/** Bytes each logged request had sent at the last mark. */
let marked = new WeakMap();

serveRpc({
  async start({ dir, objects, latencyMs, faults, ephemeralAppPorts, kubeconfigPath }) {
    simulator = await startSimulator({ dir, objects, latencyMs, faults, ephemeralAppPorts, requestLogLimit: 100_000 });
    writeFileSync(kubeconfigPath, simulator.kubeconfigYaml(), { mode: 0o600 });
    return { url: simulator.url, apps: simulator.apps };
  },
  /**
   * What the daemon asked since the last clear (or mark): requests, body bytes read, and by resource.
   * A watch stays open across marks: only the bytes it sent since the mark count.
   */
  stats() {
    const byResource = {};
    let bytes = 0;
    let unanswered = 0;
    let requests = 0;
    for (const entry of simulator.requests) {
      bytes += entry.bytes - (marked.get(entry) ?? 0);
      if (marked.has(entry)) continue;
      requests++;
      if (entry.status === 0) unanswered++;
      const key = `${entry.verb} ${entry.resource || entry.path}`;
      byResource[key] = (byResource[key] ?? 0) + 1;
    }
    return { requests, bytes, unanswered, byResource };
  },
  clear() {
    simulator.clearRequests();
    marked = new WeakMap();
  },
  /** Like clear, but keeps the log, so that open watches go on counting their bytes. */
  mark() {
    marked = new WeakMap(simulator.requests.map((entry) => [entry, entry.bytes]));
  },
  /** The simulator's kubeconfig (server, CA, token): the bench writes through the API as a controller would. */
  kubeconfig() {
    return { ...simulator.kubeconfig(), caPem: simulator.caPem };
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
