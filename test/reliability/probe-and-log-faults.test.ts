/**
 * The rest of the fault matrix: endpoints that misbehave in every way a network can (refused,
 * timeout, reset mid-body, TLS, DNS, redirect loop, a 100 MB body) and controller logs that are
 * huge, binary or name a container the pod does not have. The daemon keeps serving, each failure
 * lands on its own target with its class, and nothing else is disturbed.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createRuntime, demoScenarioDir, resolveConfig } from '../../src/main.js';
import { captureLog } from '../helpers/logs.js';
import { type MisbehavingServers, startMisbehavingServers } from '../helpers/misbehaving-servers.js';

describe('endpoint faults', () => {
  let servers: MisbehavingServers;

  beforeAll(async () => {
    servers = await startMisbehavingServers();
  });

  afterAll(() => servers.close());

  it('each failure is its own target with its class; the daemon keeps serving', async () => {
    const { base, tlsBase, closedPort } = servers;
    const endpoints = [
      { name: 'ok', url: `${base}/ok` },
      { name: 'refused', url: `http://127.0.0.1:${closedPort}/` },
      { name: 'timeout', url: `${base}/hang`, timeoutMs: 300 },
      { name: 'reset', url: `${base}/reset` },
      { name: 'tls', url: `${tlsBase}/` },
      { name: 'dns', url: 'http://litellm.homelab.invalid:4000/v1/models' },
      { name: 'redirect-loop', url: `${base}/loop` },
      { name: 'huge-body', url: `${base}/huge`, bodyContains: 'never there', timeoutMs: 5000 },
    ];
    const failingLookup: LookupFunction = (hostname, _options, callback) => {
      (callback as (e: Error) => void)(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    };
    const captured = captureLog('warn');
    const config = parseConfig({ endpoints, checks: Object.fromEntries(['controller-pods', 'controller-plugins'].map((id) => [id, { enabled: true }])) }, 'endpoint-faults.yaml');
    const runtime = await createRuntime({
      config: { config, file: 'endpoint-faults.yaml', baseDir: process.cwd() },
      simulate: { dir: demoScenarioDir(), ephemeralAppPorts: true },
      only: ['endpoint', 'controller-pods'],
      log: captured.log,
      outbound: { lookup: failingLookup },
    });
    try {
      const before = process.memoryUsage().rss;
      await runtime.daemon.runOnce();
      const byTarget = new Map(runtime.daemon.store.results().filter((r) => r.check === 'endpoint').map((r) => [r.target, r]));
      expect(byTarget.get('ok')?.status).toBe('ok');
      for (const [name, errorClass] of [
        ['refused', 'refused'],
        ['timeout', 'timeout'],
        ['reset', 'reset'],
        ['tls', 'tls'],
        ['dns', 'dns'],
        ['redirect-loop', 'redirect'],
      ] as const) {
        expect({ name, status: byTarget.get(name)?.status, errorClass: byTarget.get(name)?.details.errorClass }).toEqual({ name, status: 'fail', errorClass });
      }
      // The 100 MB body is read up to the 1 MiB cap, then judged.
      expect(byTarget.get('huge-body')).toMatchObject({ status: 'fail', details: { errorClass: 'body' } });
      expect(process.memoryUsage().rss - before).toBeLessThan(80 * 1024 * 1024);
      expect(runtime.daemon.store.results().find((r) => r.check === 'controller-pods')?.status).toBe('ok');
      expect(runtime.health.health().body.checks.length).toBe(endpoints.length + 1);
    } finally {
      await runtime.close();
    }
  });
});

describe('controller log faults', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rd-log-faults-'));
    cpSync(demoScenarioDir(), dir, { recursive: true });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function controllerPodFile(): { file: string; docs: Record<string, unknown>[] } {
    const file = path.join(dir, 'argo-rollouts', 'controller.yaml');
    return { file, docs: readFileSync(file, 'utf8').split(/^---$/m).map((d) => parse(d) as Record<string, unknown>).filter(Boolean) };
  }

  async function runControllerChecks() {
    const scenario = await resolveConfig({ simulate: { dir } });
    const runtime = await createRuntime({ config: scenario, simulate: { dir, ephemeralAppPorts: true }, only: ['controller-pods', 'controller-plugins'], log: captureLog('warn').log });
    try {
      await runtime.daemon.runOnce();
      return runtime.daemon.store.results();
    } finally {
      await runtime.close();
    }
  }

  it('a log of hundreds of MB is read within its bound', async () => {
    const logs = path.join(dir, 'logs', 'argo-rollouts');
    const [file] = readdirSync(logs).filter((f) => f.endsWith('.log') && !f.includes('.previous.'));
    const original = readFileSync(path.join(logs, file!), 'utf8');
    const noise = `${'time="2026-11-26T10:00:00Z" level=info msg="Reconciliation completed" namespace=litellm rollout=litellm\n'.repeat(10_000)}`;
    const parts = [original];
    for (let i = 0; i < 300; i++) parts.push(noise);
    writeFileSync(path.join(logs, file!), parts.join(''));
    try {
      const before = process.memoryUsage().rss;
      const results = await runControllerChecks();
      expect(process.memoryUsage().rss - before).toBeLessThan(150 * 1024 * 1024);
      expect(results.find((r) => r.check === 'controller-pods')?.status).toBe('ok');
      expect(results.find((r) => r.check === 'controller-plugins')?.status).not.toBe('fail');
    } finally {
      writeFileSync(path.join(logs, file!), original);
    }
  });

  it('a binary log does not break the checks', async () => {
    const logs = path.join(dir, 'logs', 'argo-rollouts');
    const [file] = readdirSync(logs).filter((f) => f.endsWith('.log') && !f.includes('.previous.'));
    const original = readFileSync(path.join(logs, file!));
    writeFileSync(path.join(logs, file!), Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 256)));
    try {
      const results = await runControllerChecks();
      expect(results.find((r) => r.check === 'controller-pods')?.status).toBe('ok');
      const plugins = results.find((r) => r.check === 'controller-plugins');
      expect(['ok', 'unknown']).toContain(plugins?.status);
    } finally {
      writeFileSync(path.join(logs, file!), original);
    }
  });

  it('a crashed container the pod does not declare: its log cannot be read, the pod is still judged', async () => {
    const { file, docs } = controllerPodFile();
    const original = readFileSync(file, 'utf8');
    try {
      const pod = docs.find((d) => d.kind === 'Pod' && (d.metadata as { labels?: Record<string, string> }).labels?.['app.kubernetes.io/component'] === 'rollouts-controller') as {
        status: { containerStatuses: Record<string, unknown>[] };
      };
      pod.status.containerStatuses.push({
        name: 'ghost',
        ready: true,
        restartCount: 3,
        image: 'x',
        imageID: 'x',
        state: { running: { startedAt: new Date().toISOString() } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: new Date(Date.now() - 60_000).toISOString() } },
      });
      writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
      const results = await runControllerChecks();
      const pods = results.find((r) => r.check === 'controller-pods');
      expect(pods?.status).toBe('warn');
      expect(String(pods?.details.logReadError)).toContain('400');
    } finally {
      writeFileSync(file, original);
    }
  });
});
