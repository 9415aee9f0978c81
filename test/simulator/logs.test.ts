import { createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { startSimulator, type SimulatedCluster } from '../../src/simulator/index.js';
import { apiError, get, getJson, kubeConfigFor, removeDir, writeScenario } from './helpers.js';

/**
 * A pod on a node whose containers run since 10:00, each with a terminated run before it (so that
 * previous logs exist), unless `state` gives a container another state (and no earlier run).
 */
function podYaml(name: string, containers: string[], initContainers: string[] = [], state: Record<string, string> = {}, onNode = true): string {
  const c = (names: string[]): string => names.map((n) => `{ name: ${n}, image: busybox }`).join(', ');
  const statuses = [...containers, ...initContainers].map(
    (n) => `    - name: ${n}
      containerID: containerd://${n}-2
      ${state[n] ?? 'state: { running: { startedAt: "2024-05-01T10:00:00Z" } }\n      lastState: { terminated: { containerID: "containerd://' + n + '-1", exitCode: 1, startedAt: "2024-05-01T09:00:00Z", finishedAt: "2024-05-01T09:59:59Z" } }'}`,
  );
  return `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ns }
spec:${onNode ? '\n  nodeName: node-1' : ''}
  containers: [${c(containers)}]${initContainers.length > 0 ? `\n  initContainers: [${c(initContainers)}]` : ''}
status:
  phase: Running
  containerStatuses:
${statuses.join('\n')}
---
`;
}

/** CRI lines as the runtime writes them; the content is what the client gets. */
const CRI = [
  '2024-05-01T10:00:00.5Z stdout F old line',
  '2024-05-01T10:05:00.123456789Z stderr F {"level":"info","msg":"json line","time":"2024-01-01T00:00:00Z"}',
  'a plain line takes the time of the line before it',
  '2024-05-01T10:08:00Z stdout P partial ',
  '2024-05-01T10:08:00Z stdout F line, joined',
  '2024-05-01T10:09:30Z stderr F I0501 10:09:30.000000       1 controller.go:42] klog line',
  '2024-05-01T10:09:30Z stderr F goroutine 1 [running]:',
].join('\n') + '\n';
const CRI_CONTENT = [
  'old line',
  '{"level":"info","msg":"json line","time":"2024-01-01T00:00:00Z"}',
  'a plain line takes the time of the line before it',
  'partial line, joined',
  'I0501 10:09:30.000000       1 controller.go:42] klog line',
  'goroutine 1 [running]:',
];

// Lines longer than the simulator's read chunk.
const LONG_KEPT = `2024-05-01T10:09:00Z stdout F ${'x'.repeat(300_000)}\n`;
const LONG_PLAIN = `${'y'.repeat(300_000)}\n`;
const LONG_END = '2024-05-01T10:09:10Z stdout F end\n';
const LONG = LONG_KEPT + LONG_PLAIN + LONG_END;

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
        podYaml('cri', ['app']) +
        podYaml('silent', ['app']) +
        podYaml('long', ['app']) +
        podYaml('pulling', ['app'], [], { app: 'state: { waiting: { reason: ImagePullBackOff } }' }) +
        podYaml('pullfail', ['app'], [], { app: 'state: { waiting: { reason: ErrImagePull } }' }) +
        podYaml('creating', ['app'], [], { app: 'state: { waiting: { reason: ContainerCreating } }' }) +
        podYaml('pending', ['app'], [], {}, false),
      'logs/ns/single.log': 'line 1\nline 2\nline 3\n',
      'logs/ns/single.previous.log': 'before the crash\n',
      'logs/ns/multi.a.log': 'from a\n',
      'logs/ns/multi.b.log': 'from b\n',
      'logs/ns/multi.b.previous.log': 'b before restart\n',
      'logs/ns/multi.init.log': 'init done\n',
      'logs/ns/two.log': 'first container by pod name\n',
      'logs/ns/cri.log': CRI,
      'logs/ns/long.log': LONG,
      'logs/ns/pending.log': 'never read: the pod has no node\n',
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

  it('reads previous logs, and fails like the kubelet when there is no terminated run', async () => {
    expect(await read('single', { previous: true })).toBe('before the crash\n');
    expect(await read('multi', { container: 'b', previous: true })).toBe('b before restart\n');
    // A terminated run without a file logged nothing.
    expect(await read('multi', { container: 'a', previous: true })).toBe('');
    const err = await apiError(read('pulling', { previous: true }));
    expect(err.code).toBe(400);
    expect(err.body).toMatchObject({ reason: 'BadRequest', message: 'previous terminated container "app" in pod "pulling" not found' });
  });

  it('follows the container status: waiting containers answer 400 with the kubelet texts', async () => {
    // pkg/kubelet/kubelet_pods.go validateContainerLogStatus (v1.32.0).
    expect((await apiError(read('pulling'))).body).toMatchObject({ code: 400, message: 'container "app" in pod "pulling" is waiting to start: trying and failing to pull image' });
    expect((await apiError(read('pullfail'))).body.message).toBe('container "app" in pod "pullfail" is waiting to start: image can\'t be pulled');
    expect((await apiError(read('creating'))).body.message).toBe('container "app" in pod "creating" is waiting to start: ContainerCreating');
  });

  it('answers 200 with an empty body for a pod that has no node yet', async () => {
    const res = await get(sim, '/api/v1/namespaces/ns/pods/pending/log');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
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

  it('serves the content of CRI lines (partial lines joined), never the runtime header', async () => {
    expect(await read('cri')).toBe(`${CRI_CONTENT.join('\n')}\n`);
  });

  it('filters sinceSeconds and sinceTime on the runtime time of each line, never on text in it', async () => {
    // The clock is fixed at 10:10:00; the JSON line's own "time" field (January) decides nothing.
    expect(await read('cri', { sinceSeconds: 300 })).toBe(`${CRI_CONTENT.slice(1).join('\n')}\n`);
    expect(await read('cri', { sinceSeconds: 120 })).toBe(`${CRI_CONTENT.slice(3).join('\n')}\n`);
    const sinceTime = await get(sim, '/api/v1/namespaces/ns/pods/cri/log?sinceTime=2024-05-01T10:09:00Z');
    expect(await sinceTime.text()).toBe(`${CRI_CONTENT.slice(4).join('\n')}\n`);
    // A plain file: every line takes the container's start (10:00).
    expect(await read('single', { sinceSeconds: 601 })).toBe('line 1\nline 2\nline 3\n');
    expect(await read('single', { sinceSeconds: 599 })).toBe('');
    expect(await read('cri', { sinceSeconds: 10 })).toBe('');
  });

  it('applies tailLines before since, then limitBytes, as the kubelet does', async () => {
    expect(await read('cri', { tailLines: 2 })).toBe(`${CRI_CONTENT.slice(4).join('\n')}\n`);
    expect(await read('cri', { sinceSeconds: 300, tailLines: 6 })).toBe(`${CRI_CONTENT.slice(1).join('\n')}\n`);
    expect(await read('cri', { sinceSeconds: 300, limitBytes: 10 })).toBe(CRI_CONTENT[1]!.slice(0, 10));
  });

  it('prefixes each line with its runtime time (RFC3339Nano) when timestamps=true', async () => {
    const lines = (await read('cri', { timestamps: true })).split('\n');
    expect(lines.slice(0, 4)).toEqual([
      '2024-05-01T10:00:00.5Z old line',
      '2024-05-01T10:05:00.123456789Z {"level":"info","msg":"json line","time":"2024-01-01T00:00:00Z"}',
      '2024-05-01T10:05:00.123456789Z a plain line takes the time of the line before it',
      '2024-05-01T10:08:00Z partial line, joined',
    ]);
    expect((await read('single', { timestamps: true })).split('\n')[0]).toBe('2024-05-01T10:00:00Z line 1');
  });

  it('validates the options like the API server', async () => {
    const bad = await getJson(sim, '/api/v1/namespaces/ns/pods/single/log?sinceSeconds=0');
    expect(bad).toMatchObject({ status: 422, body: { reason: 'Invalid', message: 'PodLogOptions "single" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0' } });
    const both = await getJson(sim, '/api/v1/namespaces/ns/pods/single/log?sinceSeconds=5&sinceTime=2024-05-01T10:00:00Z');
    expect(both.body.message).toBe('PodLogOptions "single" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified');
  });

  it('filters and stamps lines longer than a read chunk', async () => {
    expect(await read('long', { sinceSeconds: 300 })).toBe(`${'x'.repeat(300_000)}\n${LONG_PLAIN}end\n`);
    expect(await read('long', { sinceSeconds: 55 })).toBe('end\n');
    expect(await read('long', { tailLines: 2 })).toBe(`${LONG_PLAIN}end\n`);
    const stamped = await read('long', { timestamps: true });
    expect(stamped).toBe(`2024-05-01T10:09:00Z ${'x'.repeat(300_000)}\n2024-05-01T10:09:00Z ${LONG_PLAIN}2024-05-01T10:09:10Z end\n`);
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
  const LAST = '2024-05-01T10:09:59Z stdout F the very last line\n';
  let block: Buffer;

  beforeAll(async () => {
    dir = await writeScenario({ 'pod.yaml': podYaml('big', ['app']) });
    const lines: string[] = [];
    let size = 0;
    for (let i = 0; size < MB; i++) {
      const line = `2024-05-01T09:00:00Z stdout F level=info msg="request served" seq=${String(i).padStart(7, '0')} path=/v1/models status=200\n`;
      lines.push(line);
      size += line.length;
    }
    block = Buffer.from(lines.join(''));
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

    expect(await core.readNamespacedPodLog({ namespace: 'ns', name: 'big', tailLines: 1 })).toBe('the very last line\n');
    const tail3 = await core.readNamespacedPodLog({ namespace: 'ns', name: 'big', tailLines: 3 });
    expect(tail3.split('\n')).toHaveLength(4);
    expect(tail3.endsWith('the very last line\n')).toBe(true);
    const limited = await core.readNamespacedPodLog({ namespace: 'ns', name: 'big', limitBytes: 1000 });
    expect(Buffer.byteLength(limited)).toBe(1000);
    expect(limited.startsWith('level=info msg="request served" seq=0000000')).toBe(true);
    // Only the last line is within the last 60 seconds of the fixed clock.
    expect(await core.readNamespacedPodLog({ namespace: 'ns', name: 'big', sinceSeconds: 60 })).toBe('the very last line\n');

    // The whole file, read and dropped chunk by chunk by the client.
    const res = await get(sim, '/api/v1/namespaces/ns/pods/big/log');
    let received = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.byteLength;
    }
    // Every line less its CRI header (`2024-05-01T09:00:00Z stdout F `, 30 bytes).
    const fileBytes = (await stat(path.join(dir, 'logs/ns/big.log'))).size;
    const fileLines = (fileBytes - Buffer.byteLength(LAST)) / Buffer.byteLength(block.toString().split('\n')[0]! + '\n') + 1;
    expect(received).toBe(fileBytes - 30 * fileLines);

    const grownMb = (process.memoryUsage().rss - rssBefore) / MB;
    expect(grownMb).toBeLessThan(64);
  }, 30_000);
});
