import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type SimulatedCluster } from '../../src/simulator/index.js';
import { get, removeDir, writeScenario } from './helpers.js';

function fakeApp(name: string, listen: string, routes: unknown[]): Record<string, unknown> {
  return { apiVersion: 'simulator.rollout-doctor.dev/v1', kind: 'FakeApp', metadata: { name }, spec: { listen, routes } };
}

describe('fake apps', () => {
  let dir: string;
  let sim: SimulatedCluster;
  const envBefore = process.env['FAKE_APP_TEST_KEY'];
  beforeAll(async () => {
    process.env['FAKE_APP_TEST_KEY'] = 'from-env';
    dir = await writeScenario({
      'token.txt': 'from-file\n',
      'apps.yaml': `
apiVersion: simulator.rollout-doctor.dev/v1
kind: FakeApp
metadata: { name: api }
spec:
  listen: 127.0.0.1:0
  routes:
    - path: /v1/models
      method: GET
      headers: { x-served-by: fake }
      body: { object: list, data: [ { id: gpt-4o } ] }
      bearerToken: { env: FAKE_APP_TEST_KEY }
    - path: /from-value
      bearerToken: { value: literal }
      body: value ok
    - path: /from-file
      bearerToken: { file: token.txt }
      body: file ok
    - path: /unset-env
      bearerToken: { env: FAKE_APP_TEST_KEY_THAT_IS_NOT_SET }
      body: never
    - path: /healthz
      body: ok
    - path: /broken
      status: 503
      body: { error: down }
    - path: /slow
      delayMs: 120
      body: late
`,
    });
    sim = await startSimulator({ dir });
  });
  afterAll(async () => {
    await sim.close();
    await removeDir(dir);
    if (envBefore === undefined) delete process.env['FAKE_APP_TEST_KEY'];
    else process.env['FAKE_APP_TEST_KEY'] = envBefore;
  });

  const url = (): string => sim.apps.find((a) => a.name === 'api')?.url ?? '';

  it('starts each FakeApp on its loopback address and lists it', () => {
    expect(sim.apps).toHaveLength(1);
    expect(url()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers a route with its JSON body and headers when the bearer token is right', async () => {
    const res = await fetch(`${url()}/v1/models`, { headers: { authorization: 'Bearer from-env' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-served-by')).toBe('fake');
    expect(await res.json()).toEqual({ object: 'list', data: [{ id: 'gpt-4o' }] });
  });

  it('answers 401 {"error":"unauthorized"} without or with a wrong token', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }] as Record<string, string>[]) {
      const res = await fetch(`${url()}/v1/models`, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'unauthorized' });
    }
    // An unset env var means no token can be right.
    expect((await fetch(`${url()}/unset-env`, { headers: { authorization: 'Bearer ' } })).status).toBe(401);
  });

  it('reads tokens from a value or a file beside the scenario', async () => {
    const value = await fetch(`${url()}/from-value`, { headers: { authorization: 'Bearer literal' } });
    expect(await value.text()).toBe('value ok');
    expect(value.headers.get('content-type')).toMatch(/^text\/plain/);
    const file = await fetch(`${url()}/from-file`, { headers: { authorization: 'Bearer from-file' } });
    expect(await file.text()).toBe('file ok');
  });

  it('serves status codes, delays, 404 for unknown paths and 405 for other methods', async () => {
    expect(await (await fetch(`${url()}/healthz`)).text()).toBe('ok');
    const broken = await fetch(`${url()}/broken`);
    expect(broken.status).toBe(503);
    expect(await broken.json()).toEqual({ error: 'down' });
    const started = performance.now();
    expect(await (await fetch(`${url()}/slow`)).text()).toBe('late');
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    expect((await fetch(`${url()}/nothing-here`)).status).toBe(404);
    expect((await fetch(`${url()}/v1/models`, { method: 'POST', headers: { authorization: 'Bearer from-env' } })).status).toBe(405);
  });

  it('keeps FakeApp objects out of the API', async () => {
    expect((await get(sim, '/apis/simulator.rollout-doctor.dev/v1/fakeapps')).status).toBe(404);
    const groups = (await (await get(sim, '/apis')).json()) as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name)).not.toContain('simulator.rollout-doctor.dev');
    expect(sim.objects('FakeApp')).toHaveLength(1);
  });
});

describe('fake apps: options', () => {
  let sim: SimulatedCluster | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('does not start apps with startApps: false', async () => {
    sim = await startSimulator({ objects: [fakeApp('a', '127.0.0.1:0', [{ path: '/' }])], startApps: false });
    expect(sim.apps).toEqual([]);
  });

  it('refuses a listen address outside loopback, leaving nothing running', async () => {
    const servers = process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    // A documentation address (RFC 5737 TEST-NET-3): refused before anything listens.
    await expect(startSimulator({ objects: [fakeApp('lan', '203.0.113.206:4000', [{ path: '/' }])] })).rejects.toThrow(
      /FakeApp lan: spec.listen 203\.0\.113\.206:4000 is not a loopback address/,
    );
    expect(process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length).toBe(servers);
  });

  it('fails the start when an app cannot listen, closing what was already started', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const servers = process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    try {
      await expect(
        startSimulator({ objects: [fakeApp('first', '127.0.0.1:0', [{ path: '/' }]), fakeApp('second', `127.0.0.1:${port}`, [{ path: '/' }])] }),
      ).rejects.toThrow(/FakeApp second: cannot listen on 127\.0\.0\.1:\d+/);
      expect(process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length).toBe(servers);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('moves apps to ephemeral ports with ephemeralAppPorts', async () => {
    sim = await startSimulator({ objects: [fakeApp('pinned', '127.0.0.1:1', [{ path: '/p', body: 'ok' }])], ephemeralAppPorts: true });
    const app = sim.apps[0];
    expect(app?.url).not.toBe('http://127.0.0.1:1');
    expect(await (await fetch(`${app?.url}/p`)).text()).toBe('ok');
  });
});
