/**
 * analysis-preflight: the fixture cases of test/fixtures/analysis-preflight through the simulator
 * and the real client-node, measuring against a real Prometheus (Debian's binary, scraping a
 * loopback exposition the test serves), loopback web endpoints, a VictoriaMetrics-style answer and
 * a closed port. The fixtures name the providers as ${PROMETHEUS}, ${WEB}, ${VM} and ${DOWN}; each
 * case is copied to a temporary folder with the real loopback addresses filled in.
 *
 * The exposition: healthy_requests_total (no errors: rate 0), litellm_requests_total (one error in
 * eleven requests), idle_requests_total (constant: a ratio of rates is 0/0 = NaN).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { metrics } from '../../src/checks/analysis-preflight.js';
import type { CheckResult } from '../../src/engine/types.js';
import { HOMELAB_SCENARIO_DIR } from '../../src/simulator/index.js';
import { requireBinary } from '../helpers/binaries.js';
import { assertResults, type CaseFile, collectSeries, describeFixtureCases, fixtureCases, runCase } from '../helpers/cases.js';
import { listenOnLoopback, type LoopbackServer } from '../helpers/loopback.js';
import { type Exposition, exposition, freePort, type RunningPrometheus, startPrometheus } from '../helpers/prometheus.js';

const CHECK = 'analysis-preflight';

function render(scrape: number): string {
  return [
    '# HELP healthy_requests_total Requests of a service without errors.',
    '# TYPE healthy_requests_total counter',
    `healthy_requests_total{code="200"} ${scrape * 100}`,
    'healthy_requests_total{code="500"} 0',
    '# HELP litellm_requests_total Requests, one in eleven failing.',
    '# TYPE litellm_requests_total counter',
    `litellm_requests_total{code="200"} ${scrape * 10}`,
    `litellm_requests_total{code="500"} ${scrape}`,
    '# HELP idle_requests_total Requests of a service nobody calls.',
    '# TYPE idle_requests_total counter',
    'idle_requests_total{code="200"} 5',
    'idle_requests_total{code="500"} 0',
    '',
  ].join('\n');
}

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback server with the web-metric routes the fixtures use; `/hang...` never answers. */
function webServer(recorded: Recorded[]): Promise<LoopbackServer> {
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      recorded.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const pathname = new URL(req.url ?? '/', 'http://x').pathname;
      if (pathname.startsWith('/hang')) return;
      if (pathname === '/healthz') return json(res, 200, { status: 'ok', version: '1.4.0' });
      if (pathname === '/degraded') return json(res, 200, { status: 'degraded' });
      if (pathname === '/error') return json(res, 500, { error: 'boom' });
      if (pathname === '/echo') return json(res, 200, { ok: true });
      if (pathname === '/huge') return json(res, 200, { status: 'ok', padding: 'x'.repeat(1100 * 1024) });
      if (pathname === '/text') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end('ok');
      }
      json(res, 404, { error: 'not found' });
    });
  });
  return listenOnLoopback(server);
}

/** Answers every instant query the way VictoriaMetrics does when the only sample was NaN: an empty vector. */
function victoriaMetrics(): Promise<LoopbackServer> {
  return listenOnLoopback(
    createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', isPartial: false, data: { resultType: 'vector', result: [] }, stats: { seriesFetched: '2', executionTimeMsec: 1 } }));
    }),
  );
}

const prometheusBinary = requireBinary('prometheus', 'analysis-preflight against a real Prometheus');
const recorded: Recorded[] = [];
const vars: Record<string, string> = {};
let prometheus: RunningPrometheus | undefined;
let series: Exposition | undefined;
let web: LoopbackServer | undefined;
let vm: LoopbackServer | undefined;
const temporary: string[] = [];

beforeAll(async () => {
  web = await webServer(recorded);
  vm = await victoriaMetrics();
  vars.WEB = web.url;
  vars.VM = vm.url;
  vars.DOWN = `http://127.0.0.1:${await freePort()}`;
  if (!prometheusBinary) return;
  series = await exposition(render);
  prometheus = await startPrometheus({ binary: prometheusBinary, scrapeConfigs: [{ job_name: 'apps', static_configs: [{ targets: [series.target] }] }] });
  vars.PROMETHEUS = prometheus.url;
  // rate() needs two scrapes: wait until every ratio the fixtures use has a sample.
  await prometheus.waitFor('sum(rate(idle_requests_total[1m]))');
  await prometheus.waitFor('sum(rate(litellm_requests_total{code="500"}[1m])) / sum(rate(litellm_requests_total[1m]))');
});

afterAll(async () => {
  await prometheus?.stop();
  await series?.close();
  await web?.close();
  await vm?.close();
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

function fill(text: string): string {
  return text.replace(/\$\{(PROMETHEUS|WEB|VM|DOWN)\}/g, (match, name: string) => vars[name] ?? match);
}

/** The case folder (and the _base it overlays) with the loopback addresses filled in, and its expectations. */
function materialize(dir: string): { dir: string; expected: CaseFile } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rd-preflight-'));
  temporary.push(root);
  const target = path.join(root, path.basename(dir));
  cpSync(dir, target, { recursive: true });
  cpSync(path.join(dir, '..', '_base'), path.join(root, '_base'), { recursive: true });
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const file = path.join(folder, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (/\.(ya?ml|json)$/.test(name)) writeFileSync(file, fill(readFileSync(file, 'utf8')));
    }
  };
  walk(root);
  return { dir: target, expected: parse(readFileSync(path.join(target, 'expected.yaml'), 'utf8')) as CaseFile };
}

const needsPrometheus = (dir: string) =>
  [dir, path.join(dir, '..', '_base')].some((folder) => readdirSync(folder).some((name) => name !== 'expected.yaml' && readFileSync(path.join(folder, name), 'utf8').includes('${PROMETHEUS}')));

async function runPreflightCase(dir: string) {
  const { dir: filled, expected } = materialize(dir);
  const output = await runCase(CHECK, filled, { faults: expected.faults, now: expected.now, config: expected.config });
  return { output, expected };
}

describeFixtureCases(CHECK, {
  run: (fixture) => runPreflightCase(fixture.dir),
  skipIf: (fixture) => !prometheusBinary && needsPrometheus(fixture.dir),
});

describe('analysis-preflight requests', () => {
  const fixture = (name: string) => fixtureCases(CHECK).find((f) => f.name === name)!;

  it('web provider: sends the method, the template headers and the JSON body with args substituted', async () => {
    const before = recorded.length;
    const { output, expected } = await runPreflightCase(fixture('web-post').dir);
    assertResults(CHECK, output.body.checks, expected);
    const sent = recorded.slice(before).filter((r) => r.url === '/echo');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: 'POST', headers: { 'x-scope': 'shop', 'content-type': 'application/json' } });
    expect(JSON.parse(sent[0]!.body)).toEqual({ probe: 'preflight', service: 'web-canary' });
  });

  it.each(['allowlist-skips', 'provider-turned-off'])('contacts no provider the config keeps it from (%s)', async (name) => {
    const before = recorded.length;
    const { output, expected } = await runPreflightCase(fixture(name).dir);
    assertResults(CHECK, output.body.checks, expected);
    expect(recorded.slice(before)).toEqual([]);
  });

  it.skipIf(!prometheusBinary)('queries each metric once per cycle, even when two Rollouts reference the template', async () => {
    const { dir } = materialize(fixture('shared-template').dir);
    const output = await runCase(CHECK, dir, { now: '2026-11-26T12:00:00Z' });
    const result = output.body.checks.find((r) => r.target === 'shop/error-rate')!;
    expect(result.details.metrics).toHaveLength(1);
    expect(result.details.referencedBy).toEqual(['shop/checkout', 'shop/web']);
  });
});

describe('analysis-preflight deadline', () => {
  it('starts no query late in the check deadline: the templates left report unknown instead of the whole check timing out', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rd-preflight-many-'));
    temporary.push(dir);
    const documents: string[] = [];
    const templates = Array.from({ length: 40 }, (_, i) => `hung-${String(i).padStart(2, '0')}`);
    documents.push(
      stringify({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: { name: 'web', namespace: 'shop' },
        spec: { strategy: { canary: { steps: templates.map((templateName) => ({ analysis: { templates: [{ templateName }] } })) } } },
      }),
    );
    for (const name of templates) {
      documents.push(
        stringify({
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'AnalysisTemplate',
          metadata: { name, namespace: 'shop' },
          spec: { metrics: [{ name: 'm', successCondition: 'result[0] < 1', provider: { prometheus: { address: `${vars.WEB}/hang`, query: 'up' } } }] },
        }),
      );
    }
    writeFileSync(path.join(dir, 'objects.yaml'), documents.join('---\n'));
    const output = await runCase(CHECK, dir, { config: { timeouts: { requestMs: 400, checkMs: 3000, cycleMs: 6000 } } });
    const results = output.body.checks.filter((r) => r.check === CHECK);
    expect(results.map((r) => r.target).sort()).toEqual(templates.map((t) => `shop/${t}`));
    expect(results.every((r) => r.status === 'unknown')).toBe(true);
    expect(results.filter((r) => r.summary.includes('no answer within the timeout')).length).toBeGreaterThan(0);
    expect(results.filter((r) => r.summary.includes("not measured this cycle: the check's deadline (timeouts.checkMs 3000 ms) is near")).length).toBeGreaterThan(0);
  });
});

describe('analysis-preflight metrics', () => {
  const family = (name: string) => metrics.find((m) => m.name === name)!;
  const resultWith = (metricsDetail: unknown[]): CheckResult<Record<string, unknown>> => ({
    target: 'shop/error-rate',
    status: 'fail',
    summary: '',
    remediation: [],
    details: { namespace: 'shop', template: 'error-rate', metrics: metricsDetail },
  });

  it('emits the current phase of each metric (no series for the other phases) and the value when there is one', () => {
    const result = resultWith([
      { metric: 'error-rate', phase: 'Error', resultKind: 'empty', value: '[]' },
      { metric: 'latency', phase: 'Successful', number: 0.25, value: '[0.25]' },
      { metric: 'traffic', phase: 'Inconclusive', number: Number.NaN, value: '[NaN]' },
    ]);
    const phases = collectSeries(family('rollout_doctor_analysis_preflight_phase'), result);
    expect(phases.map((s) => [s.labels.metric, s.labels.phase, s.value])).toEqual([
      ['error-rate', 'Error', 1],
      ['latency', 'Successful', 1],
      ['traffic', 'Inconclusive', 1],
    ]);
    const values = collectSeries(family('rollout_doctor_analysis_preflight_value'), result);
    expect(values.map((s) => [s.labels.metric, s.value])).toEqual([
      ['latency', 0.25],
      ['traffic', Number.NaN],
    ]);
    expect(values[0]!.labels).toEqual({ namespace: 'shop', template: 'error-rate', metric: 'latency' });
  });

  it('collects nothing from an unknown result', () => {
    const unknown: CheckResult<Record<string, unknown>> = { target: '*', status: 'unknown', summary: 'x', remediation: [], details: { reason: 'x' } };
    for (const family of metrics) expect(collectSeries(family, unknown)).toEqual([]);
  });
});

describe('bundled homelab scenario', () => {
  it('is ok for rollout-services, rollout-pods and the LiteLLM template (its VictoriaMetrics is a fake app); the Sympozium template, outside the demo allowedHosts, warns that nothing was measured', async () => {
    const output = await runCase(['rollout-services', 'rollout-pods', CHECK], HOMELAB_SCENARIO_DIR);
    const results = output.body.checks;
    expect(results.map((r) => `${r.check} ${r.target} ${r.status}`).sort()).toEqual([
      'analysis-preflight litellm/litellm-error-rate ok',
      'analysis-preflight sympozium-system/sympozium-healthz warn',
      'rollout-pods litellm/litellm ok',
      'rollout-pods sympozium-system/sympozium-apiserver ok',
      'rollout-services litellm/litellm ok',
      'rollout-services sympozium-system/sympozium-apiserver ok',
    ]);
    const litellm = results.find((r) => r.target === 'litellm/litellm-error-rate')!;
    expect(litellm.details.metrics).toMatchObject([{ metric: 'error-rate', phase: 'Successful', value: '[0.0041]', server: 'VictoriaMetrics', args: { 'canary-hash': '6b8d5c9f47' } }]);
    // The demo config allows only the loopback VictoriaMetrics: the preview Service's cluster DNS name is not contacted.
    const sympozium = results.find((r) => r.target === 'sympozium-system/sympozium-healthz')!;
    expect(sympozium.details.metrics).toMatchObject([{ metric: 'healthz', provider: 'web', phase: 'Skipped' }]);
    expect(sympozium.summary).toContain('nothing measured: metric healthz not queried: host sympozium-apiserver-preview.sympozium-system.svc.cluster.local:8080 is not in checks.analysis-preflight.allowedHosts');
  });
});
