/**
 * The demo's Gateway API variant (src/simulator/scenarios/homelab-gatewayapi): the homelab with the
 * Gateway API plugin instead of the Cilium plugin the runbook names. It is healthy: every check ok (but the homelab's warn for the Sympozium template, outside the demo's allowedHosts)
 * and `check` exits 0, with the Gateway API plugin's route, weights and RBAC checked. Run through
 * main.ts as `check --simulate` runs it, with the scenario's own config, its fake apps on ephemeral
 * ports (other tests start the homelab's fixed addresses).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCheckOnce } from '../../src/main.js';
import { REPO } from '../helpers/cli.js';

const DIR = path.join(REPO, 'src/simulator/scenarios/homelab-gatewayapi');

describe('the homelab-gatewayapi scenario', () => {
  it('is healthy: every check ok but the Sympozium template the demo config does not let it query, exit 0, the HTTPRoute carrying the weights the controller set', async () => {
    const output = await runCheckOnce({ simulate: { dir: DIR, ephemeralAppPorts: true } });
    const body = output.body;
    expect(body.checks.filter((c) => c.status !== 'ok').map((c) => `${c.check} ${c.target} ${c.status}`)).toEqual(['analysis-preflight sympozium-system/sympozium-healthz warn']);
    expect(output.exitCode).toBe(0);
    const of = (check: string, target: string) => body.checks.find((c) => c.check === check && c.target === target);
    expect(of('rollout-traffic', 'litellm/litellm')?.summary).toBe('Rollout litellm/litellm: HTTPRoute litellm/litellm: canary litellm-canary 0, stable litellm 100 as the controller set (canary holds no traffic)');
    expect(of('controller-plugins', 'argoproj-labs/gatewayAPI')?.details).toMatchObject({ loaded: true, location: expect.stringContaining('/releases/download/v0.15.0/gatewayapi-plugin-linux-amd64') });
    expect(body.checks.filter((c) => c.check === 'controller-rbac').map((c) => c.target)).toEqual(['core/services', 'gateway.networking.k8s.io/httproutes']);
    expect(body.checks.filter((c) => c.check === 'self-rbac').map((c) => c.target)).toEqual(expect.arrayContaining(['gateway.networking.k8s.io/httproutes', 'gateway.networking.k8s.io/tlsroutes']));
  });
});
