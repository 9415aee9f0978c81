/**
 * The HTTP surface on a real loopback server (lightship's pattern): /health JSON and text, filters,
 * status codes, the state before the first cycle, probes, and /metrics validated by promtool.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { gunzipSync } from 'node:zlib';
import { fetch, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncodedBody } from '../../src/encoded-body.js';
import { kubectl, text } from '../../src/engine/remediation.js';
import type { Check } from '../../src/engine/types.js';
import { healthJsonSchema, healthSchema } from '../../src/http/health-schema.js';
import { sendEncoded } from '../../src/http/encoded.js';
import { buildServer } from '../../src/http/server.js';
import { requireBinary } from '../helpers/binaries.js';
import { testRuntime, type TestRuntime } from '../helpers/runtime.js';

let dir: string;
let runtime: TestRuntime;
let app: FastifyInstance;
let base: string;

const statusCheck: Check<{ value: number }> = {
  id: 'sample',
  description: 'one result per status, from the Rollouts',
  needs: ['rollouts'],
  metrics: [
    {
      name: 'rollout_doctor_sample_value',
      help: 'A sample family read from details.',
      labelNames: ['target'],
      collect: (details, result) => [{ labels: { target: result.target }, value: details.value }],
    },
  ],
  async run(ctx) {
    return ctx.snapshot.list('rollouts').map((r) => {
      const status = (r.metadata.labels?.want ?? 'ok') as 'ok' | 'warn' | 'fail';
      const target = `${r.metadata.namespace}/${r.metadata.name}`;
      return {
        target,
        status,
        summary: `${target} is ${status}`,
        remediation: status === 'ok' ? [] : [kubectl(['argo', 'rollouts', 'get', 'rollout', r.metadata.name ?? '', '-n', r.metadata.namespace ?? '']), text('Fix the thing.')],
        details: { value: status === 'ok' ? 1 : 0 },
      };
    });
  },
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rd-http-'));
  const rollout = (name: string, want: string) => `apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: ${name}, namespace: apps, labels: {want: ${want}}}\nspec: {}\n`;
  writeFileSync(path.join(dir, 'rollouts.yaml'), [rollout('good', 'ok'), rollout('slow', 'warn'), rollout('broken', 'fail')].join('---\n'));
  runtime = await testRuntime({ dir, checks: [statusCheck] });
  app = buildServer({ health: runtime.health, metrics: runtime.metrics, checkIds: () => runtime.daemon.checks().map((c) => c.id) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await app.close();
  await runtime.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('before the first cycle', () => {
  it('/health is 503 unknown with no checks, /readyz is 503, /livez is 200', async () => {
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ schemaVersion: 1, status: 'unknown', checkedAt: null, cycle: null, incidents: [], checks: [] });
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    expect((await fetch(`${base}/livez`)).status).toBe(200);
  });
});

describe('after a cycle', () => {
  beforeAll(async () => {
    await runtime.daemon.runOnce();
  });

  it('/health has the documented shape and the worst status', async () => {
    const response = await fetch(`${base}/health`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = healthSchema.parse(await response.json());
    expect(body.status).toBe('fail');
    expect(body.cycle).toMatchObject({ apiRequests: 1 });
    expect(body.checks.map((c) => [c.target, c.status])).toEqual([
      ['apps/broken', 'fail'],
      ['apps/good', 'ok'],
      ['apps/slow', 'warn'],
    ]);
    expect(body.checks[1]!.remediation).toEqual([]);
    // No rule relates these results: each non-ok one is an incident of its own, and names it.
    expect(body.incidents.map((i) => [i.root.target, i.status, i.effects.length])).toEqual([
      ['apps/broken', 'fail', 0],
      ['apps/slow', 'warn', 0],
    ]);
    expect(body.checks.map((c) => c.incident)).toEqual([body.incidents[0]!.id, undefined, body.incidents[1]!.id]);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('publishes a JSON Schema that allows fields it does not know, everywhere (schemaVersion 1 may gain fields)', () => {
    const objects: Record<string, unknown>[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        if (record.type === 'object') objects.push(record);
        Object.values(record).forEach(walk);
      }
    };
    const schema = healthJsonSchema() as { properties: Record<string, unknown> };
    walk(schema);
    expect(objects.length).toBeGreaterThan(5);
    expect(objects.filter((o) => o.additionalProperties === false)).toEqual([]);
    expect(Object.keys(schema.properties)).toEqual(['schemaVersion', 'status', 'checkedAt', 'cycle', 'incidents', 'checks', 'watchFallback']);
  });

  it('filters recompute the overall status and the HTTP code', async () => {
    const warn = await fetch(`${base}/health?target=apps/slow`);
    expect(warn.status).toBe(200);
    expect(((await warn.json()) as { status: string }).status).toBe('warn');
    const ok = await fetch(`${base}/health?check=sample&target=apps/good`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { checks: unknown[] }).checks).toHaveLength(1);
    expect(((await (await fetch(`${base}/health?target=apps/broken`)).json()) as { incidents: { root: { target: string } }[] }).incidents.map((i) => i.root.target)).toEqual(['apps/broken']);
    expect(((await (await fetch(`${base}/health?target=apps/good`)).json()) as { incidents: unknown[] }).incidents).toEqual([]);
    const none = await fetch(`${base}/health?check=sample&target=apps/none`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ status: 'unknown', checks: [] });
    const bad = await fetch(`${base}/health?format=xml`);
    expect(bad.status).toBe(400);
  });

  it('?check= naming no check that runs is a 404 listing the ids (or the one meant)', async () => {
    const unknown = await fetch(`${base}/health?check=nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'no check "nope" runs here (checks: sample)' });
    const typo = await fetch(`${base}/health?check=sampel&format=text`);
    expect(typo.status).toBe(404);
    expect(typo.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await typo.text()).toBe('no check "sampel" runs here (did you mean "sample"?)\n');
  });

  it('?format=text and Accept: text/plain give the text view: counts, problems first with remediation, ok collapsed', async () => {
    const text = await (await fetch(`${base}/health?format=text`)).text();
    const viaAccept = await (await fetch(`${base}/health`, { headers: { accept: 'text/plain' } })).text();
    expect(viaAccept.replace(/checked \d+ s ago/, '')).toBe(text.replace(/checked \d+ s ago/, ''));
    expect(text.split('\n')).toEqual([
      expect.stringMatching(/^1 fail, 1 warn, 1 ok \(checked \d+ s ago, cycle \d+ ms\)$/),
      // The incident lines come between the count line and the table.
      '2 incidents:',
      '  FAIL  apps/broken is fail',
      '  WARN  apps/slow is warn',
      '',
      'FAIL  sample  apps/broken  apps/broken is fail',
      '      $ kubectl argo rollouts get rollout broken -n apps',
      '        Fix the thing.',
      '',
      'WARN  sample  apps/slow  apps/slow is warn',
      '      $ kubectl argo rollouts get rollout slow -n apps',
      '        Fix the thing.',
      '',
      'sample: 1 ok',
      '',
    ]);
  });

  it('?verbose=1 lists the ok results too; ?width narrows it; bad values are 400', async () => {
    const verbose = await (await fetch(`${base}/health?format=text&verbose=1`)).text();
    expect(verbose).toContain('\nok    sample  apps/good  apps/good is ok\n');
    expect(verbose).not.toContain('sample: 1 ok');
    const narrow = await (await fetch(`${base}/health?format=text&width=45`)).text();
    expect(Math.max(...narrow.split('\n').map((l) => l.length))).toBeLessThanOrEqual(40);
    for (const query of ['width=39', 'width=501', 'width=wide', 'verbose=yes']) {
      const bad = await fetch(`${base}/health?format=text&${query}`);
      expect(bad.status, query).toBe(400);
      expect(await bad.json()).toMatchObject({ error: expect.stringContaining(query.split('=')[0]!) });
    }
  });

  it('/metrics serves the exposition rendered at the end of the cycle', async () => {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toBe(runtime.metrics.text());
    expect(text.split('\n').filter((l) => l.startsWith('rollout_doctor_check_status{check="sample",target="apps/good",'))).toEqual([
      'rollout_doctor_check_status{check="sample",target="apps/good",status="ok"} 1',
    ]);
    expect(text).toContain('rollout_doctor_sample_value{target="apps/good"} 1');
    expect(text).toMatch(/^rollout_doctor_cycles_total 1$/m);
    expect(text).toMatch(/^rollout_doctor_build_info\{version="\d+\.\d+\.\d+"\} 1$/m);
    expect(text).toContain('rollout_doctor_cycle_duration_seconds_bucket');
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).not.toMatch(/nodejs_active_\w+_total/);
  });

  it('large bodies are served gzipped to clients that accept it, encoded once per cycle', async () => {
    // A cycle is complete once its bodies are published, and they are published with their gzip.
    expect(runtime.metrics.body().gzip).toBeDefined();
    const raw = await request(`${base}/metrics`, { headers: { 'accept-encoding': 'gzip' } });
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(raw.headers.vary).toBe('accept-encoding');
    expect(gunzipSync(Buffer.from(await raw.body.arrayBuffer())).toString()).toBe(runtime.metrics.text());
    expect(runtime.metrics.body().gzip).toBe(runtime.metrics.body().gzip);
    const plain = await request(`${base}/metrics`, { headers: { 'accept-encoding': 'gzip;q=0, identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(await plain.body.text()).toBe(runtime.metrics.text());
  });

  it('a body under 512 KB keeps its identity beside the gzip: a client that does not take gzip gets those bytes, with their length', async () => {
    const body = runtime.metrics.body();
    expect(body.identity).toBeDefined();
    const plain = await request(`${base}/metrics`);
    expect([plain.statusCode, plain.headers['content-encoding'], plain.headers['content-length']]).toEqual([200, undefined, String(body.identity!.length)]);
    expect(await plain.body.text()).toBe(runtime.metrics.text());
  });

  it('a large body is kept only as its gzip: a client that does not take gzip gets it inflated, with its length; HEAD the same headers', async () => {
    // A real fastify server sending an EncodedBody as the /metrics and /health routes do (sendEncoded).
    const lines: string[] = [];
    for (let i = 0; i < 40_000; i++) lines.push(`rollout_doctor_sample_value{target="apps/rollout-${i}",note="é✓"} ${i % 7}`);
    const identity = `${lines.join('\n')}\n`;
    const large = EncodedBody.of(identity);
    await large.ready;
    expect(large.length).toBeGreaterThan(512 * 1024);
    expect(large.identity).toBeUndefined();
    const server = Fastify();
    server.route({ method: ['GET', 'HEAD'], url: '/large', handler: (req, reply) => sendEncoded(req, reply.type('text/plain; charset=utf-8'), large) });
    await server.listen({ host: '127.0.0.1', port: 0 });
    try {
      const address = server.server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/large`;
      const length = String(Buffer.byteLength(identity));
      const plain = await request(url);
      expect([plain.statusCode, plain.headers['content-encoding'], plain.headers['content-length'], plain.headers.vary]).toEqual([200, undefined, length, 'accept-encoding']);
      expect(plain.headers['content-type']).toContain('text/plain');
      expect((await plain.body.text()) === identity).toBe(true);
      const head = await request(url, { method: 'HEAD' });
      expect([head.statusCode, head.headers['content-encoding'], head.headers['content-length'], head.headers.vary]).toEqual([200, undefined, length, 'accept-encoding']);
      expect(await head.body.text()).toBe('');
      const gzipHead = await request(url, { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } });
      expect([gzipHead.headers['content-encoding'], gzipHead.headers['content-length']]).toEqual(['gzip', String(large.gzip!.length)]);
      await gzipHead.body.text();
      const gzip = await request(url, { headers: { 'accept-encoding': 'gzip' } });
      expect(gunzipSync(Buffer.from(await gzip.body.arrayBuffer())).toString('utf8') === identity).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('promtool check metrics passes on the whole exposition', () => {
    const promtool = requireBinary('promtool', 'the /metrics lint');
    if (!promtool) return;
    const output = execFileSync(promtool, ['check', 'metrics'], { input: runtime.metrics.text(), encoding: 'utf8' });
    expect(output.trim()).toBe('');
  });
});
