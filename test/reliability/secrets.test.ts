/**
 * Secrets never reach logs, /health (JSON and text) or /metrics. Every scenario (the bundled
 * homelab, every check's fixture cases, the upstream fixtures) runs with endpoints that carry a
 * known bearer token (from an env var and from a file) and user:password inside the URL, against a
 * loopback server that answers 401 (so the failure paths, which quote the most, run too), with
 * logging at trace. The simulator's own kubeconfig token must not leak either.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { renderTextView } from '../../src/http/text-view.js';
import { createRuntime, demoScenarioDir, resolveConfig } from '../../src/main.js';
import { FIXTURE_ROOT } from '../helpers/cases.js';
import { listenOnLoopback, type LoopbackServer } from '../helpers/loopback.js';
import { captureLog } from '../helpers/logs.js';

const TOKEN = 'sk-live-7f3a9c2e-never-print-me';
const PASSWORD = 'hunter2-url-password-never-print';
const FILE_TOKEN = 'file-token-9b8c7d-never-print';

let server: LoopbackServer;
let port: number;
let tmp: string;

function scenarios(): string[] {
  const dirs = [demoScenarioDir()];
  for (const check of readdirSync(FIXTURE_ROOT)) {
    const root = path.join(FIXTURE_ROOT, check);
    if (!statSync(root).isDirectory()) continue;
    for (const name of readdirSync(root)) {
      const dir = path.join(root, name);
      if (statSync(dir).isDirectory() && existsSync(path.join(dir, 'expected.yaml'))) dirs.push(dir);
    }
  }
  const upstream = path.join(FIXTURE_ROOT, 'upstream', 'argo-rollouts-info');
  for (const name of readdirSync(upstream)) dirs.push(path.join(upstream, name));
  return dirs;
}

beforeAll(async () => {
  server = await listenOnLoopback(
    http.createServer((req, res) => {
      // Echo what arrived, as a careless server would: the daemon must not repeat it.
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
      res.end(`unauthorized: ${req.headers.authorization ?? ''}`);
    }),
  );
  port = server.port;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rd-secrets-'));
  writeFileSync(path.join(tmp, 'token'), `${FILE_TOKEN}\n`);
  process.env.ROLLOUT_DOCTOR_TEST_TOKEN = TOKEN;
});

afterAll(async () => {
  delete process.env.ROLLOUT_DOCTOR_TEST_TOKEN;
  rmSync(tmp, { recursive: true, force: true });
  await server.close();
});

describe('secrets stay secret', () => {
  it.each(scenarios().map((dir) => [path.relative(path.resolve(import.meta.dirname, '..', '..', '..'), dir), dir]))('%s', async (_name, dir) => {
    const scenario = await resolveConfig({ simulate: { dir } });
    const raw = JSON.parse(JSON.stringify(scenario.config)) as Record<string, unknown>;
    const config = parseConfig(
      {
        ...raw,
        timeouts: { requestMs: 1000, checkMs: 3000, cycleMs: 6000 },
        endpoints: [
          ...((raw.endpoints as unknown[]) ?? []),
          { name: 'secret-env', url: `http://127.0.0.1:${port}/v1/models?api_key=${TOKEN}`, bearerToken: { env: 'ROLLOUT_DOCTOR_TEST_TOKEN' }, rollout: 'litellm/litellm' },
          { name: 'secret-url', url: `http://admin:${PASSWORD}@127.0.0.1:${port}/healthz` },
          { name: 'secret-file', url: `http://127.0.0.1:${port}/x`, bearerToken: { file: path.join(tmp, 'token') }, headers: { 'x-api-key': TOKEN } },
        ],
      },
      'secrets.yaml',
    );
    const captured = captureLog('trace');
    const runtime = await createRuntime({ config: { ...scenario, config }, simulate: { dir, ephemeralAppPorts: true }, log: captured.log });
    try {
      await runtime.daemon.runOnce();
      const health = runtime.health.health();
      const outputs = { logs: captured.lines().join('\n'), healthJson: health.json, healthText: renderTextView(health.body, Date.now(), { width: 100, verbose: true }), metrics: runtime.metrics.text() };
      const secrets = [TOKEN, PASSWORD, FILE_TOKEN, runtime.simulator!.token, encodeURIComponent(PASSWORD)];
      for (const [where, text] of Object.entries(outputs)) {
        for (const secret of secrets) expect(text.includes(secret), `${where} contains a secret`).toBe(false);
      }
      // The probes really ran and failed (401), so the failure paths were exercised.
      const env = health.body.checks.find((c) => c.target === 'secret-env');
      expect(env?.status).toBe('fail');
      expect(env?.remediation.join('\n')).toContain('$ROLLOUT_DOCTOR_TEST_TOKEN');
      expect(health.body.checks.find((c) => c.target === 'secret-url')?.details.url).toContain('[redacted]');
    } finally {
      await runtime.close();
    }
  });
});
