/**
 * From the demo to your own cluster, with the real CLI against a real API server address: the
 * simulator (`rollout-doctor simulate`) behind the real `kubectl proxy`, so the kubeconfig the CLI
 * reads names a plain http:// server, as it does for a user who runs kubectl proxy.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthSchema } from '../src/http/health-schema.js';
import { requireTool } from './helpers/binaries.js';
import { CLI, REPO, runCli } from './helpers/cli.js';

const kubectl = requireTool('kubectl', 'the plain-http kubeconfig tests (kubectl proxy)', 'a kubectl 1.32 or later on PATH');
const SCENARIO = 'test/fixtures/controller-pods/crashloop-plugin-download-404';
const DEFAULTS = 'config: built-in defaults (no --config, ROLLOUT_DOCTOR_CONFIG unset)';

/** Spawns a long-running child and resolves with the first match of `pattern` in its stdout. */
function startUntil(command: string, args: string[], pattern: RegExp, cwd = REPO): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(' ')}: no ${pattern} within 30 s\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const match = pattern.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
  });
}

describe.skipIf(!kubectl)('your own cluster: the current kubectl context, over plain http (kubectl proxy)', () => {
  let work: string;
  let simulator: ChildProcess;
  let proxy: ChildProcess;
  let server: string;
  let kubeconfig: string;

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'rd-own-cluster-'));
    const simulated = path.join(work, 'simulator.kubeconfig');
    ({ child: simulator } = await startUntil(process.execPath, ['--import', 'tsx', CLI, 'simulate', SCENARIO, '--kubeconfig-out', simulated], /kubeconfig: /));
    const started = await startUntil(kubectl!, ['--kubeconfig', simulated, 'proxy', '--port=0'], /Starting to serve on (127\.0\.0\.1:\d+)/);
    proxy = started.child;
    server = `http://${started.match[1]}`;
    kubeconfig = path.join(work, 'kubeconfig');
    // The current context goes through kubectl proxy (which adds the credentials); another one
    // names an address where nothing listens.
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: homelab\n  cluster:\n    server: ${server}`,
        '- name: elsewhere\n  cluster:\n    server: https://127.0.0.1:1',
        'users:',
        '- name: proxy\n  user: {}',
        'contexts:',
        '- name: homelab\n  context: {cluster: homelab, user: proxy}',
        '- name: staging\n  context: {cluster: elsewhere, user: proxy}',
        'current-context: homelab',
        '',
      ].join('\n'),
    );
  });

  afterAll(() => {
    proxy?.kill('SIGTERM');
    simulator?.kill('SIGTERM');
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('check with no --config runs the defaults against the current context and says so on the first stderr line', async () => {
    const result = await runCli(['check', '--check', 'controller-pods', '-o', 'json'], { env: { KUBECONFIG: kubeconfig, KUBERNETES_SERVICE_HOST: '' } });
    expect(result.stderr.split('\n')[0]).toBe(`rollout-doctor: context "homelab" at ${server} (KUBECONFIG=${kubeconfig}); ${DEFAULTS}`);
    const body = healthSchema.parse(JSON.parse(result.stdout));
    expect(body.checks).toMatchObject([{ check: 'controller-pods', status: 'fail' }]);
    expect(body.checks[0]!.summary).toContain('CrashLoopBackOff');
    expect(body.checks[0]!.remediation.join('\n')).not.toContain('--context');
    expect(result.code).toBe(1);
  });

  it('--context picks a context and puts it into every kubectl command of the remediation', async () => {
    const result = await runCli(['check', '--kubeconfig', kubeconfig, '--context', 'homelab', '--check', 'controller-pods', '-o', 'json']);
    expect(result.stderr.split('\n')[0]).toBe(`rollout-doctor: context "homelab" at ${server} (${kubeconfig}); ${DEFAULTS}`);
    const kubectlLines = healthSchema.parse(JSON.parse(result.stdout)).checks[0]!.remediation.filter((line) => line.startsWith('kubectl '));
    expect(kubectlLines.length).toBeGreaterThan(0);
    for (const line of kubectlLines) expect(line).toContain('--context homelab');
  });

  it("a config's kubectlContext wins over --context in the remediation", async () => {
    const config = path.join(work, 'config.yaml');
    writeFileSync(config, 'kubectlContext: homelab-admin\n');
    const result = await runCli(['check', '--kubeconfig', kubeconfig, '--context', 'homelab', '--config', config, '--check', 'controller-pods', '-o', 'json']);
    expect(result.stderr.split('\n')[0]).toBe(`rollout-doctor: context "homelab" at ${server} (${kubeconfig}); config: ${config}`);
    const remediation = healthSchema.parse(JSON.parse(result.stdout)).checks[0]!.remediation.join('\n');
    expect(remediation).toContain('--context homelab-admin');
    expect(remediation).not.toContain('--context homelab ');
  });

  it('an unknown context exits 2 naming the kubeconfig and the context meant', async () => {
    const result = await runCli(['check', '--kubeconfig', kubeconfig, '--context', 'homelb']);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe(`rollout-doctor: --context homelb: no such context in ${kubeconfig} (did you mean "homelab"?)\n`);
  });
});
