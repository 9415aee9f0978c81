/** The command line as an operator uses it: real processes, real HTTP. */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fetch } from 'undici';
import { describe, expect, it } from 'vitest';
import { healthSchema } from '../src/http/health-schema.js';
import { requireBinary } from './helpers/binaries.js';
import { CLI, REPO, runCli } from './helpers/cli.js';

describe('usage', () => {
  it('--help prints the usage and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('rollout-doctor serve [--config FILE] [--listen HOST:PORT] [--kubeconfig FILE]');
    expect(result.stdout).toContain('--simulate-fault RES=FAULT');
  });

  it('an unknown command, flag or misplaced flag exits 2 with a message', async () => {
    expect(await runCli(['frobnicate'])).toMatchObject({ code: 2, stdout: '' });
    const unknownFlag = await runCli(['check', '--nope']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("Unknown option '--nope'");
    const misplaced = await runCli(['demo', '--config', 'x.yaml']);
    expect(misplaced).toMatchObject({ code: 2 });
    expect(misplaced.stderr).toContain('--config is not an option of demo');
    const badFault = await runCli(['check', '--simulate', 'test/fixtures/config', '--simulate-fault', 'pods=sometimes']);
    expect(badFault.code).toBe(2);
    expect(badFault.stderr).toContain('FAULT must be an HTTP status (100-599), hang, stall, garbage or truncate');
    const unknownCheck = await runCli(['check', '--simulate', 'src/simulator/scenarios/homelab', '--check', 'rollout-stauts']);
    expect(unknownCheck.code).toBe(2);
    expect(unknownCheck.stderr).toContain('--check: unknown check "rollout-stauts"');
  });

  it('simulate listens on loopback only and needs its folder (exit 2 otherwise)', async () => {
    const outside = await runCli(['simulate', 'src/simulator/scenarios/homelab', '--listen', '0.0.0.0:0']);
    expect(outside).toMatchObject({ code: 2, stdout: '' });
    expect(outside.stderr).toContain('--listen 0.0.0.0:0: 0.0.0.0 is not a loopback address');
    // A documentation address (RFC 5737 TEST-NET-3): not loopback, and nothing is ever sent there.
    const lan = await runCli(['simulate', 'src/simulator/scenarios/homelab', '--listen', '203.0.113.206:6443']);
    expect(lan.code).toBe(2);
    const missing = await runCli(['simulate', 'no/such/folder']);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toContain('no/such/folder: simulation folder not found');
    expect((await runCli(['simulate'])).code).toBe(2);
  });

  it('without credentials, serve exits 2 and says what it looked for', async () => {
    const result = await runCli(['serve', '--listen', '127.0.0.1:0'], { env: { KUBECONFIG: '', HOME: '/nonexistent', KUBERNETES_SERVICE_HOST: '' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no Kubernetes credentials');
  });
});

describe('check', () => {
  it('prints the /health document and nothing else on stdout, exit 1 when something fails', async () => {
    const result = await runCli(['check', '--simulate', 'test/fixtures/upstream/argo-rollouts-info/canary', '--output', 'json']);
    expect(result.code).toBe(1);
    const body = healthSchema.parse(JSON.parse(result.stdout));
    expect(body.status).toBe('fail');
    expect(body.cycle!.apiRequests).toBeGreaterThan(0);
    expect(body.checks.find((c) => c.check === 'controller-pods')).toMatchObject({ status: 'fail', target: 'argo-rollouts/argo-rollouts' });
  });

  it('exits 0 on the healthy homelab and prints the text view', async () => {
    const result = await runCli(['check', '--simulate', 'src/simulator/scenarios/homelab', '--check', 'controller-pods']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^1 ok \(checked \d+ s ago, cycle \d+ ms\)\n\ncontroller-pods: 1 ok\n$/);
    expect(result.stderr).toBe('');
  });

  it('--simulate-fault turns the affected checks unknown with what to do, exit 3 (nothing fails)', async () => {
    const result = await runCli(['check', '--simulate', 'src/simulator/scenarios/homelab', '--check', 'controller-pods', '--simulate-fault', 'pods=403', '--output', 'json']);
    expect(result.code).toBe(3);
    const body = healthSchema.parse(JSON.parse(result.stdout));
    expect(body.checks).toMatchObject([{ check: 'controller-pods', target: '*', status: 'unknown', summary: 'rollout-doctor may not list pods in namespace argo-rollouts (403 Forbidden)' }]);
    expect(body.checks[0]!.remediation).toEqual([
      "Let rollout-doctor list pods in namespace argo-rollouts: add this rule to its Role in namespace argo-rollouts (deploy/rbac.yaml grants them all): - {apiGroups: [\"\"], resources: [pods], verbs: [list]}",
    ]);
  });
});

describe('demo', () => {
  it('serves the simulated homelab: /health nothing failing (one warn), /metrics passes promtool, SIGTERM exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'demo', '--listen', '127.0.0.1:0'], {
      cwd: REPO,
      // The demo logs at warn unless LOG_LEVEL says otherwise: nothing on a healthy homelab.
      env: { ...process.env, LOG_LEVEL: '', ROLLOUT_DOCTOR_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      let url: string | undefined;
      for (let i = 0; i < 1200 && !url; i++) {
        url = /serving the simulated homelab on (http:\/\/\S+)/.exec(stdout)?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 50));
      }
      expect(url, `demo did not start:\n${stderr}`).toBeDefined();
      expect(stdout).toContain(`curl -s ${url}/health`);
      // The runbook's own commands work against the demo cluster with the kubeconfig it wrote.
      const kubeconfig = /kubectl --kubeconfig (\S+) get pods -n argo-rollouts/.exec(stdout)?.[1];
      expect(kubeconfig, stdout).toBeDefined();
      expect(readFileSync(kubeconfig!, 'utf8')).toContain('certificate-authority-data:');
      for (let i = 0; i < 600; i++) {
        if ((await fetch(`${url}/readyz`)).status === 200) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const health = await fetch(`${url}/health`);
      const body = healthSchema.parse(await health.json());
      // The demo config keeps analysis-preflight off the Sympozium template's cluster DNS host: nothing measured there (issue 14 §2).
      expect(body.checks.filter((c) => c.status !== 'ok').map((c) => `${c.check} ${c.target} ${c.status}`)).toEqual(['analysis-preflight sympozium-system/sympozium-healthz warn']);
      expect(health.status).toBe(200);
      expect(body.status).toBe('warn');
      expect(body.checks.length).toBeGreaterThan(2);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain('rollout_doctor_check_status{check="endpoint",target="litellm",status="ok"} 1');
      const promtool = requireBinary('promtool', 'the demo /metrics lint');
      if (promtool) expect(execFileSync(promtool, ['check', 'metrics'], { input: metrics, encoding: 'utf8' }).trim()).toBe('');
      // (a warning may come: a tick skipped while the machine is busy; never an info line)
      expect(stderr).not.toContain('"level":"info"');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('--list shows every bundled scenario with its description; an unknown --scenario exits 2 listing them', async () => {
    const list = await runCli(['demo', '--list']);
    expect(list.code).toBe(0);
    const names = list.stdout.trim().split('\n').map((line) => line.split(/\s{2,}/));
    for (const name of ['homelab', 'plugin-download-404', 'canary-never-started', 'empty-result-abort', 'bluegreen-paused']) {
      expect(names.find(([n]) => n === name)?.[1], name).toMatch(/\w/);
    }
    const unknown = await runCli(['demo', '--scenario', 'plugin-download-40']);
    expect(unknown).toMatchObject({ code: 2, stderr: 'rollout-doctor: --scenario plugin-download-40: no such scenario (did you mean "plugin-download-404"?)\n(see rollout-doctor --help)\n' });
  });

  it('--scenario serves an incident; the banner (every URL, the kubeconfig) comes before the status-change log lines', async () => {
    // stdout and stderr into one pipe, as on a terminal, to see their order.
    const child = spawn('sh', ['-c', `exec "${process.execPath}" --import tsx "${CLI}" demo --scenario empty-result-abort --listen 127.0.0.1:0 2>&1`], {
      cwd: REPO,
      env: { ...process.env, LOG_LEVEL: 'info', ROLLOUT_DOCTOR_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      let url: string | undefined;
      for (let i = 0; i < 1200 && !url; i++) {
        url = /serving the simulated scenario empty-result-abort on (http:\/\/\S+)/.exec(output)?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 50));
      }
      expect(url, output).toBeDefined();
      for (let i = 0; i < 600; i++) {
        if ((await fetch(`${url}/readyz`)).status === 200) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const health = await fetch(`${url}/health?check=rollout-analysis`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { checks: { status: string }[] }).checks[0]).toMatchObject({ status: 'fail' });
      for (const path of ['/health', '/metrics', '/livez', '/readyz']) expect(output).toContain(`${url}${path}`);
      expect(output).toMatch(/kubectl --kubeconfig \S+\.kubeconfig get rollouts -A/);
      const lines = output.split('\n');
      const bannerEnd = lines.findIndex((line) => line.startsWith('Logs follow on stderr'));
      const firstChange = lines.findIndex((line) => line.includes('"event":"status_change"'));
      expect(bannerEnd).toBeGreaterThan(0);
      expect(firstChange, 'the status changes are logged at LOG_LEVEL=info').toBeGreaterThan(bannerEnd);
      expect(output).toContain('"event":"status_change","check":"rollout-analysis","target":"litellm/litellm"');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
