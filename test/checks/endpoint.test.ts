/**
 * endpoint beyond its fixture cases (test/fixtures/endpoint/<case>/: FakeApps the simulator serves on
 * loopback; they run in fixtures.test.ts): real loopback servers this file starts on 127.0.0.1
 * ephemeral ports for what a FakeApp cannot do (refuse, hang without answering, reset), and its metrics.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metrics } from '../../src/checks/endpoint.js';
import { assertResults, collectSeries, FIXTURE_ROOT, fixtureCases, runCase } from '../helpers/cases.js';
import { listenOnLoopback, type LoopbackServer } from '../helpers/loopback.js';

const ID = 'endpoint';
const KEY = 'sk-test-rollout-doctor';
const APPS_DIR = path.join(FIXTURE_ROOT, ID, 'ok');

let savedKey: string | undefined;
beforeAll(() => {
  savedKey = process.env.LITELLM_KEY;
  process.env.LITELLM_KEY = KEY;
  return () => {
    if (savedKey === undefined) delete process.env.LITELLM_KEY;
    else process.env.LITELLM_KEY = savedKey;
  };
});


/** A TCP server on 127.0.0.1 that does `onConnection` with every socket, closed with all its sockets. */
function tcpServer(onConnection: (socket: Socket) => void): Promise<LoopbackServer> {
  return listenOnLoopback(
    createServer((socket) => {
      socket.on('error', () => undefined);
      onConnection(socket);
    }),
  );
}

const endpoint = (name: string, url: string, extra: Record<string, unknown> = {}) => ({ name, url, timeoutMs: 500, ...extra });

describe(`${ID} against real loopback servers`, () => {
  it('a refused connection fails with errorClass refused', async () => {
    const closed = await tcpServer(() => undefined);
    await closed.close();
    const output = await runCase(ID, APPS_DIR, { config: { endpoints: [endpoint('refusing', `http://127.0.0.1:${closed.port}/v1/models`, { rollout: 'litellm/litellm' })] } });
    assertResults(ID, output.body.checks, {
      exact: true,
      results: [
        {
          target: 'refusing',
          status: 'fail',
          summary: 'failed: connection refused',
          details: { errorClass: 'refused' },
          remediation: [`curl -sS http://127.0.0.1:${closed.port}/v1/models`, 'kubectl argo rollouts get rollout litellm -n litellm'],
        },
      ],
    });
    // The endpoint names its rollout: /health says so and the text view lists it in that rollout's block.
    expect(output.body.checks.find((c) => c.target === 'refusing')?.rollout).toBe('litellm/litellm');
    expect(output.text).toMatch(/\nRollout litellm\/litellm\nFAIL +endpoint +refusing /);
  });

  it('a server that accepts and never answers fails with errorClass timeout', async () => {
    const silent = await tcpServer(() => undefined);
    try {
      const output = await runCase(ID, APPS_DIR, { config: { endpoints: [endpoint('hanging', `http://127.0.0.1:${silent.port}/v1/models`, { timeoutMs: 300 })] } });
      assertResults(ID, output.body.checks, { results: [{ target: 'hanging', status: 'fail', details: { errorClass: 'timeout' } }] });
    } finally {
      await silent.close();
    }
  });

  it('a server that resets the connection fails with errorClass reset', async () => {
    const resetting = await tcpServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    try {
      const output = await runCase(ID, APPS_DIR, { config: { endpoints: [endpoint('resetting', `http://127.0.0.1:${resetting.port}/healthz`)] } });
      assertResults(ID, output.body.checks, { results: [{ target: 'resetting', status: 'fail', summary: 'connection reset by the server', details: { errorClass: 'reset' } }] });
    } finally {
      await resetting.close();
    }
  });

  describe('a bearer token from a file', () => {
    let server: LoopbackServer;
    let port: number;
    let dir: string;
    const seen: (string | undefined)[] = [];
    beforeAll(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'rd-endpoint-'));
      writeFileSync(path.join(dir, 'litellm.key'), `${KEY}\n`);
      server = await listenOnLoopback(
        createHttpServer((req, res) => {
          seen.push(req.headers.authorization);
          const isAllowed = req.headers.authorization === `Bearer ${KEY}`;
          res.writeHead(isAllowed ? 200 : 401, { 'content-type': 'application/json' });
          res.end(JSON.stringify(isAllowed ? { object: 'list', data: [] } : { error: 'unauthorized' }));
        }),
      );
      port = server.port;
    });
    afterAll(async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('sends the trimmed token and reports ok', async () => {
      const output = await runCase(ID, APPS_DIR, {
        config: { endpoints: [endpoint('litellm', `http://127.0.0.1:${port}/v1/models`, { bearerToken: { file: path.join(dir, 'litellm.key') }, jsonPath: '$.object', jsonEquals: 'list' })] },
      });
      assertResults(ID, output.body.checks, { results: [{ target: 'litellm', status: 'ok', details: { statusCode: 200, jsonValue: 'list' } }] });
      expect(seen.at(-1)).toBe(`Bearer ${KEY}`);
      expect(output.json).not.toContain(KEY);
    });

    it('a missing token file is unknown (not probed), never fail', async () => {
      const output = await runCase(ID, APPS_DIR, { config: { endpoints: [endpoint('litellm', `http://127.0.0.1:${port}/v1/models`, { bearerToken: { file: path.join(dir, 'missing.key') } })] } });
      assertResults(ID, output.body.checks, { results: [{ target: 'litellm', status: 'unknown', summary: 'cannot be read (ENOENT)' }] });
    });
  });
});

describe(`${ID} metrics`, () => {
  it('up, probe duration and status code per endpoint; nothing but up=0 and duration without an answer', async () => {
    const collect = async (caseName: string) => {
      const fixture = fixtureCases(ID).find((c) => c.name === caseName)!;
      const output = await runCase(ID, fixture.dir, { config: fixture.expected.config, faults: fixture.expected.faults });
      const result = output.body.checks.find((c) => c.check === ID)!;
      return Object.fromEntries(metrics.map((family) => [family.name, collectSeries(family, result).map((s) => ({ ...s, value: family.name.endsWith('_seconds') ? s.value > 0 : s.value }))]));
    };
    expect(await collect('unauthorized-401')).toEqual({
      rollout_doctor_endpoint_up: [{ labels: { endpoint: 'litellm' }, value: 0 }],
      rollout_doctor_endpoint_probe_duration_seconds: [{ labels: { endpoint: 'litellm' }, value: true }],
      rollout_doctor_endpoint_status_code: [{ labels: { endpoint: 'litellm' }, value: 401 }],
    });
    expect(await collect('hanging')).toEqual({
      rollout_doctor_endpoint_up: [{ labels: { endpoint: 'litellm-hang' }, value: 0 }],
      rollout_doctor_endpoint_probe_duration_seconds: [{ labels: { endpoint: 'litellm-hang' }, value: true }],
      rollout_doctor_endpoint_status_code: [],
    });
    expect(await collect('token-env-unset')).toEqual({
      rollout_doctor_endpoint_up: [],
      rollout_doctor_endpoint_probe_duration_seconds: [],
      rollout_doctor_endpoint_status_code: [],
    });
  });
});
