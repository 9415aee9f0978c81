/**
 * kube-api beyond its fixture cases (which fault the simulator: 401, hang, 500, /version forbidden):
 * an API server that is not there at all (connection refused) and one whose certificate the
 * kubeconfig does not trust, both through a real kubeconfig file as `--kubeconfig` gives it; its
 * metric family; `--check kube-api` and `mute`.
 */
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { metrics } from '../../src/checks/kube-api.js';
import { parseConfig } from '../../src/config/load.js';
import { runCheckOnce } from '../../src/main.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { SimulatedCluster } from '../../src/simulator/types.js';
import { assertRemediated, collectSeries, FAST_TIMEOUTS } from '../helpers/cases.js';

let dir: string;
let sim: SimulatedCluster;

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function kubeconfig(name: string, server: string, cluster: Record<string, unknown> = {}, token = 'not-a-real-token'): string {
  const file = path.join(dir, `${name}.kubeconfig`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'lab', cluster: { server, ...cluster } }],
      users: [{ name: 'alice', user: { token } }],
      contexts: [{ name: 'homelab', context: { cluster: 'lab', user: 'alice' } }],
      'current-context': 'homelab',
    }),
  );
  return file;
}

const config = (raw: Record<string, unknown> = {}) => ({ config: parseConfig({ timeouts: FAST_TIMEOUTS, ...raw }, 'test-config.yaml'), file: 'test-config.yaml', baseDir: dir });

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rd-kube-api-'));
  sim = await startSimulator({});
});

afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kube-api', () => {
  it('connection refused: one unknown result naming server and context, the other checks point at it, exit 3', async () => {
    const port = await closedPort();
    const file = kubeconfig('refused', `https://127.0.0.1:${port}`);
    const output = await runCheckOnce({ kubeconfigPath: file, config: config(), only: ['kube-api', 'rollout-status', 'self-rbac'], logLevel: 'silent' });
    expect(output.exitCode).toBe(3);
    const [api, ...others] = output.body.checks.sort((a, b) => (a.check === 'kube-api' ? -1 : b.check === 'kube-api' ? 1 : 0));
    expect(api).toMatchObject({ check: 'kube-api', target: 'homelab', status: 'unknown', summary: `Kubernetes API https://127.0.0.1:${port} (context homelab) unreachable: ECONNREFUSED` });
    expect(api!.details).toMatchObject({ state: 'unreachable', context: 'homelab', credentials: `user "alice" (bearer token) in ${file}` });
    expect(api!.remediation).toEqual([
      `Kubernetes API https://127.0.0.1:${port} (context homelab): could not be reached; check that it runs and that rollout-doctor can reach it: kubectl --kubeconfig ${file} --context homelab cluster-info`,
    ]);
    expect(others.map((r) => [r.check, r.target, r.summary])).toEqual([
      ['rollout-status', '*', 'not checked: the Kubernetes API is unreachable (see kube-api)'],
      ['self-rbac', '*', 'not checked: the Kubernetes API is unreachable (see kube-api)'],
    ]);
    assertRemediated(output.body.checks);
    // One incident rooted at kube-api (docs/incidents.md, api-down-explains-unknown).
    expect(output.body.incidents.map((i) => [i.root.check, i.effects.map((e) => e.check), i.summary])).toEqual([
      ['kube-api', ['rollout-status', 'self-rbac'], 'Kubernetes API unreachable -> rollout-status not checked, self-rbac not checked'],
    ]);
    // The text view says it once in the incident line and once in the table, not once per check.
    expect(output.text).toContain('\n1 incident: Kubernetes API unreachable -> rollout-status not checked, self-rbac not checked\n');
    expect(output.text).toContain('not checked because of kube-api: rollout-status, self-rbac\n');
    expect(output.text.match(/unreachable/g)).toHaveLength(2);
  });

  it('a certificate the kubeconfig does not trust: tls_error', async () => {
    const file = kubeconfig('untrusted', sim.url);
    const output = await runCheckOnce({ kubeconfigPath: file, config: config(), only: ['kube-api'], logLevel: 'silent' });
    const [api] = output.body.checks;
    expect(api).toMatchObject({ status: 'unknown', details: { state: 'tls_error' } });
    expect(api!.summary).toMatch(/TLS handshake failed \(\w+\)/);
    expect(api!.remediation[0]).toContain('the TLS handshake failed (check the CA and the server name in the kubeconfig)');
    expect(collectSeries(metrics[0]!, api!).map((s) => `${s.labels.state} ${s.value}`)).toEqual(['ok 0', 'unreachable 0', 'tls_error 1', 'unauthorized 0', 'error 0']);
  });

  it('is a catalogue check like the others: --check kube-api runs it alone, mute mutes it', async () => {
    const file = kubeconfig('trusted', sim.url, { 'certificate-authority-data': Buffer.from(sim.caPem).toString('base64') }, sim.token);
    const ok = await runCheckOnce({ kubeconfigPath: file, config: config(), only: ['kube-api'], logLevel: 'silent' });
    expect(ok.exitCode).toBe(0);
    expect(ok.body.checks).toMatchObject([{ check: 'kube-api', target: 'homelab', status: 'ok', details: { state: 'ok', version: 'v1.32.0' } }]);
    expect(collectSeries(metrics[0]!, ok.body.checks[0]!).filter((s) => s.value === 1).map((s) => s.labels.state)).toEqual(['ok']);
    const port = await closedPort();
    const muted = await runCheckOnce({
      kubeconfigPath: kubeconfig('muted', `https://127.0.0.1:${port}`),
      config: config({ mute: [{ check: 'kube-api', target: '*', reason: 'the lab is powered off' }] }),
      only: ['kube-api'],
      logLevel: 'silent',
    });
    expect(muted.body.checks).toMatchObject([{ check: 'kube-api', status: 'unknown', muted: true, muteReason: 'the lab is powered off' }]);
    expect(muted.exitCode).toBe(0);
  });
});
