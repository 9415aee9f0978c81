import { createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { startSimulator, type SimulatedCluster } from '../../src/simulator/index.js';
import { apiError, get, kubeConfigFor, removeDir, writeScenario } from './helpers.js';

function podYaml(name: string, containers: string[], initContainers: string[] = []): string {
  const c = (names: string[]): string => names.map((n) => `{ name: ${n}, image: busybox }`).join(', ');
  return `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ns }
spec:
  containers: [${c(containers)}]${initContainers.length > 0 ? `\n  initContainers: [${c(initContainers)}]` : ''}
---
`;
}

const TIMED = [
  '2024-05-01T10:00:00Z old line',
  'a line without any timestamp',
  '2024-05-01T10:05:00.123456+00:00 mid line',
  'time="2024-05-01T10:08:00Z" level=info msg="logrus line"',
  '2024-05-01T10:09:30Z newest line',
].join('\n') + '\n';

// Lines longer than the simulator's read chunk, with and without a timestamp.
const LONG_KEPT = `2024-05-01T10:09:00Z ${'x'.repeat(300_000)}\n`;
const LONG_OLD = `${'y'.repeat(300_000)}\n`;
const LONG_END = '2024-05-01T10:09:10Z end\n';
const LONG = LONG_KEPT + LONG_OLD + LONG_END;

const BINARY = Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x0a, 0x80, 0x7f, 0x0a]);

describe('pod logs', () => {
  let dir: string;
  let sim: SimulatedCluster;
  let core: CoreV1Api;
  beforeAll(async () => {
    dir = await writeScenario({
      'pods.yaml':
        podYaml('single', ['app']) +
        podYaml('multi', ['a', 'b'], ['init']) +
        podYaml('two', ['x', 'y']) +
        podYaml('timed', ['app']) +
        podYaml('silent', ['app']) +
        podYaml('long', ['app']),
      'logs/ns/single.log': 'line 1\nline 2\nline 3\n',
      'logs/ns/single.previous.log': 'before the crash\n',
      'logs/ns/multi.a.log': 'from a\n',
      'logs/ns/multi.b.log': 'from b\n',
      'logs/ns/multi.b.previous.log': 'b before restart\n',
      'logs/ns/multi.init.log': 'init done\n',
      'logs/ns/two.log': 'first container by pod name\n',
      'logs/ns/timed.log': TIMED,
      'logs/ns/long.log': LONG,
    });
    await writeFile(path.join(dir, 'logs/ns/silent.log'), BINARY);
    sim = await startSimulator({ dir, now: new Date('2024-05-01T10:10:00Z') });
    core = kubeConfigFor(sim).makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await sim.close();
    await removeDir(dir);
  });

  const read = (name: string, options: Partial<Parameters<CoreV1Api['readNamespacedPodLog']>[0]> = {}): Promise<string> =>
    core.readNamespacedPodLog({ namespace: 'ns', name, ...options });

  it('reads <pod>.log for a single-container pod, as text/plain', async () => {
    expect(await read('single')).toBe('line 1\nline 2\nline 3\n');
    const res = await get(sim, '/api/v1/namespaces/ns/pods/single/log');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(sim.requests.at(-1)).toMatchObject({ resource: 'pods/log', verb: 'get', status: 200 });
  });

  it('reads <pod>.<container>.log by container, and <pod>.log for the first container', async () => {
    expect(await read('multi', { container: 'a' })).toBe('from a\n');
    expect(await read('multi', { container: 'b' })).toBe('from b\n');
    expect(await read('multi', { container: 'init' })).toBe('init done\n');
    expect(await read('two', { container: 'x' })).toBe('first container by pod name\n');
    // No file for the second container: an empty 200, as for a container that logged nothing.
    expect(await read('two', { container: 'y' })).toBe('');
  });

  it('reads previous logs, and fails like the kubelet when there is none', async () => {
    expect(await read('single', { previous: true })).toBe('before the crash\n');
    expect(await read('multi', { container: 'b', previous: true })).toBe('b before restart\n');
    const err = await apiError(read('multi', { container: 'a', previous: true }));
    expect(err.code).toBe(400);
    expect(err.body).toMatchObject({ reason: 'BadRequest', message: 'previous terminated container "a" in pod "multi" not found' });
  });

  it('rejects unknown pods and containers with the real messages', async () => {
    const missing = await apiError(read('ghost'));
    expect(missing.code).toBe(404);
    expect(missing.body.message).toBe('pods "ghost" not found');
    const badContainer = await apiError(read('single', { container: 'nope' }));
    expect(badContainer.code).toBe(400);
    expect(badContainer.body.message).toBe('container nope is not valid for pod single');
    const ambiguous = await apiError(read('two'));
    expect(ambiguous.body.message).toBe('a container name must be specified for pod two, choose one of: [x y]');
    const withInit = await apiError(read('multi'));
    expect(withInit.body.message).toBe('a container name must be specified for pod multi, choose one of: [a b] or one of the init containers: [init]');
  });

  it('applies tailLines then limitBytes', async () => {
    expect(await read('single', { tailLines: 2 })).toBe('line 2\nline 3\n');
    expect(await read('single', { tailLines: 0 })).toBe('');
    expect(await read('single', { tailLines: 10 })).toBe('line 1\nline 2\nline 3\n');
    expect(await read('single', { limitBytes: 9 })).toBe('line 1\nli');
    expect(await read('single', { tailLines: 2, limitBytes: 8 })).toBe('line 2\nl');
    const bad = await get(sim, '/api/v1/namespaces/ns/pods/single/log?tailLines=abc');
    expect(bad.status).toBe(400);
  });

  it('keeps lines within sinceSeconds of now (RFC 3339 or logrus time; untimed lines are old)', async () => {
    expect(await read('timed', { sinceSeconds: 300 })).toBe(
      '2024-05-01T10:05:00.123456+00:00 mid line\ntime="2024-05-01T10:08:00Z" level=info msg="logrus line"\n2024-05-01T10:09:30Z newest line\n',
    );
    expect(await read('timed', { sinceSeconds: 120 })).toBe('time="2024-05-01T10:08:00Z" level=info msg="logrus line"\n2024-05-01T10:09:30Z newest line\n');
    expect(await read('timed', { sinceSeconds: 300, tailLines: 1 })).toBe('2024-05-01T10:09:30Z newest line\n');
    expect(await read('timed', { sinceSeconds: 300, tailLines: 2, limitBytes: 20 })).toBe('time="2024-05-01T10:');
    expect(await read('timed', { sinceSeconds: 10 })).toBe('');
    expect(await read('timed', { sinceSeconds: 3600 })).toBe(TIMED.split('\n').filter((l) => l !== 'a line without any timestamp').join('\n'));
  });

  it('prefixes each line with its timestamp when timestamps=true', async () => {
    // A line without a time of its own gets the one of the line before it.
    const lines = (await read('timed', { timestamps: true })).split('\n');
    expect(lines.slice(1, 5)).toEqual([
      '2024-05-01T10:00:00.000000000Z a line without any timestamp',
      '2024-05-01T10:05:00.123456000Z 2024-05-01T10:05:00.123456+00:00 mid line',
      '2024-05-01T10:08:00.000000000Z time="2024-05-01T10:08:00Z" level=info msg="logrus line"',
      '2024-05-01T10:09:30.000000000Z 2024-05-01T10:09:30Z newest line',
    ]);
  });

  it('filters and stamps lines longer than a read chunk', async () => {
    expect(await read('long', { sinceSeconds: 300 })).toBe(LONG_KEPT + LONG_END);
    expect(await read('long', { sinceSeconds: 300, tailLines: 1 })).toBe(LONG_END);
    expect(await read('long', { sinceSeconds: 300, tailLines: 5 })).toBe(LONG_KEPT + LONG_END);
    expect(await read('long', { tailLines: 2 })).toBe(LONG_OLD + LONG_END);
    const stamped = await read('long', { timestamps: true });
    expect(stamped).toBe(
      `2024-05-01T10:09:00.000000000Z ${LONG_KEPT}2024-05-01T10:09:00.000000000Z ${LONG_OLD}2024-05-01T10:09:10.000000000Z ${LONG_END}`,
    );
    expect(await read('long', { sinceSeconds: 300, limitBytes: 25 })).toBe(LONG_KEPT.slice(0, 25));
  });

  it('passes binary content through byte for byte', async () => {
    const res = await get(sim, '/api/v1/namespaces/ns/pods/silent/log');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(BINARY);
    const tail = await get(sim, '/api/v1/namespaces/ns/pods/silent/log?tailLines=1');
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(BINARY.subarray(5));
  });
});

describe('pod logs: a 200 MB file', () => {
  const MB = 1024 * 1024;
  let dir: string;
  let sim: SimulatedCluster;
  let core: CoreV1Api;
  const LAST = '2024-05-01T10:09:59Z the very last line\n';

  beforeAll(async () => {
    dir = await writeScenario({ 'pod.yaml': podYaml('big', ['app']) });
    const lines: string[] = [];
    let size = 0;
    for (let i = 0; size < MB; i++) {
      const line = `2024-05-01T09:00:00Z level=info msg="request served" seq=${String(i).padStart(7, '0')} path=/v1/models status=200\n`;
      lines.push(line);
      size += line.length;
    }
    const block = Buffer.from(lines.join(''));
    await mkdir(path.join(dir, 'logs/ns'), { recursive: true });
    const out = createWriteStream(path.join(dir, 'logs/ns/big.log'));
    for (let i = 0; i < 200; i++) if (!out.write(block)) await once(out, 'drain');
    out.end(LAST);
    await once(out, 'finish');
    sim = await startSimulator({ dir, now: new Date('2024-05-01T10:10:00Z') });
    core = kubeConfigFor(sim).makeApiClient(CoreV1Api);
  }, 30_000);
  afterAll(async () => {
    await sim?.close();
    await removeDir(dir);
  });

  it('streams tailLines, limitBytes, sinceSeconds and the whole file without holding it in memory', async () => {
    await core.readNamespacedPodLog({ namespace: 'ns', name: 'big', tailLines: 1 });
    const rssBefore = process.memoryUsage().rss;

    expect(await core.readNamespacedPodLog({ namespace: 'ns', name: 'big', tailLines: 1 })).toBe(LAST);
    const tail3 = await core.readNamespacedPodLog({ namespace: 'ns', name: 'big', tailLines: 3 });
    expect(tail3.split('\n')).toHaveLength(4);
    expect(tail3.endsWith(LAST)).toBe(true);
    const limited = await core.readNamespacedPodLog({ namespace: 'ns', name: 'big', limitBytes: 1000 });
    expect(Buffer.byteLength(limited)).toBe(1000);
    expect(limited.startsWith('2024-05-01T09:00:00Z level=info msg="request served" seq=0000000')).toBe(true);
    // Only the last line is within the last 60 seconds of the fixed clock.
    expect(await core.readNamespacedPodLog({ namespace: 'ns', name: 'big', sinceSeconds: 60 })).toBe(LAST);

    // The whole file, read and dropped chunk by chunk by the client.
    const res = await get(sim, '/api/v1/namespaces/ns/pods/big/log');
    let received = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
    }
    expect(received).toBe((await stat(path.join(dir, 'logs/ns/big.log'))).size);

    const grownMb = (process.memoryUsage().rss - rssBefore) / MB;
    expect(grownMb).toBeLessThan(64);
  }, 30_000);
});
