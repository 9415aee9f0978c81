/**
 * Conformance: the real kubectl (1.32 or later) against `rollout-doctor simulate` (the real CLI, a
 * child process) on the homelab scenario, one simulator for every row. Each row's expected output
 * comes from Kubernetes' source and kubectl's documented formats (cited per row) and the scenario's
 * own files, never from what the simulator printed. docs/simulator.md lists the rows.
 *
 * The scenario is copied with its fake apps moved from 127.0.55.x to 127.0.57.x (movedHomelab), so
 * that this simulator (whose apps listen on their declared addresses, as `simulate` always starts
 * them) never competes for a port with the other tests that start the homelab.
 *
 * First row: `rollout-doctor serve --kubeconfig FILE` against the simulator gives the same /health as
 * `--simulate DIR`, over TLS with the kubeconfig's CA (before any row changes the cluster).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCheckOnce } from '../../src/main.js';
import { requireTool } from '../helpers/binaries.js';
import { CLI, filesUnder, movedHomelab, REPO } from '../helpers/cli.js';
import { goldenDocument } from '../helpers/golden.js';

const SA = 'system:serviceaccount:argo-rollouts:argo-rollouts';

/** kubectl 1.32 or later, or undefined after saying loudly why the rows are skipped (CI: an error). */
function findKubectl(): string | undefined {
  const found = requireTool('kubectl', 'the kubectl conformance rows (test/conformance)', 'a kubectl 1.32 or later on PATH');
  if (!found) return undefined;
  const version = execFileSync(found, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  const minor = Number(/"minor":\s*"(\d+)/.exec(version)?.[1] ?? 0);
  if (minor >= 32) return found;
  const message = `kubectl ${/"gitVersion":\s*"([^"]+)"/.exec(version)?.[1] ?? '?'} is older than 1.32: the conformance rows need 1.32 or later`;
  if (process.env.CI) throw new Error(`CI is set and ${message}`);
  process.stderr.write(`\n${'!'.repeat(100)}\n!!! SKIPPING: ${message}\n${'!'.repeat(100)}\n\n`);
  return undefined;
}

const kubectl = findKubectl();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let work: string;
let homelab: { dir: string; remove(): void } | undefined;
let scenario: string;
let kubeconfig: string;
let simulator: ChildProcess | undefined;
let simulatorStdout = '';

function run(args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    // A HOME of its own: kubectl's discovery and OpenAPI caches start empty.
    const child = execFile(kubectl!, ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, HOME: work, KUBECONFIG: '' }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The scenario's objects, read from its files with the yaml parser (not through the simulator). */
function scenarioObjects(kind: string): Record<string, any>[] {
  return filesUnder(scenario)
    .filter((f) => f.endsWith('.yaml') && !f.endsWith('rollout-doctor.yaml') && !f.includes(`${path.sep}logs${path.sep}`))
    .flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJSON() as Record<string, any> | null))
    .filter((o): o is Record<string, any> => o !== null && o['kind'] === kind);
}

/** The CRI log file's lines (`<time> <stream> <P|F> <content>`, the format kubelet reads): [time, content]. */
function criLines(file: string): [number, string][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [time, , , ...rest] = line.split(' ');
      return [Date.parse(time!), rest.join(' ')] as [number, string];
    });
}

/**
 * Objects the rows need and the homelab lacks, added to the copy: none of them is seen by a check (a
 * pod without the rollouts-pod-template-hash label outside the controller's namespace; a grant the
 * controller's checks do not ask about), so the first row's /health stays the homelab's.
 * - A pod whose container restarted once (`lastState.terminated` with a containerID), with the
 *   previous run's log, for `logs --previous`.
 * - `get` on nodes granted to the group of the argo-rollouts service accounts only, for reviews that
 *   are judged on the groups they send.
 */
const RESTARTED_POD = 'restarted';
const GROUP = 'system:serviceaccounts:argo-rollouts';

function writeConformanceObjects(dir: string): void {
  writeFileSync(
    path.join(dir, 'conformance.yaml'),
    `apiVersion: v1
kind: Pod
metadata: { name: ${RESTARTED_POD}, namespace: default, uid: 3f1c9a52-7d2e-4b8a-9c61-0e5d4a7b2c19, creationTimestamp: "2026-11-20T10:00:00Z" }
spec:
  nodeName: homelab
  containers: [{ name: app, image: busybox:1.36 }]
status:
  phase: Running
  startTime: "2026-11-20T10:00:00Z"
  containerStatuses:
    - name: app
      image: busybox:1.36
      imageID: docker.io/library/busybox@sha256:0f3e1b2a4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7
      containerID: containerd://b1d2c3e4f5a6978812345678901234567890abcdef1234567890abcdef123456
      ready: true
      started: true
      restartCount: 1
      state: { running: { startedAt: "2026-11-20T10:05:00Z" } }
      lastState:
        terminated:
          containerID: containerd://a0c1b2d3e4f5968712345678901234567890abcdef1234567890abcdef123456
          exitCode: 1
          reason: Error
          startedAt: "2026-11-20T10:00:01Z"
          finishedAt: "2026-11-20T10:04:58Z"
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: conformance-nodes-reader }
rules: [{ apiGroups: [""], resources: [nodes], verbs: [get] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: conformance-nodes-reader }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: conformance-nodes-reader }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: "${GROUP}" }]
`,
  );
  const logs = path.join(dir, 'logs', 'default');
  mkdirSync(logs, { recursive: true });
  writeFileSync(path.join(logs, `${RESTARTED_POD}.previous.log`), '2026-11-20T10:04:57Z stderr F panic: the previous run\n');
  writeFileSync(path.join(logs, `${RESTARTED_POD}.log`), '2026-11-20T10:05:01Z stdout F the current run\n');
}

async function startSimulate(): Promise<void> {
  simulator = spawn(process.execPath, ['--import', 'tsx', CLI, 'simulate', scenario, '--kubeconfig-out', kubeconfig, '--log-level', 'warn'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  simulator.stdout!.on('data', (d: Buffer) => (simulatorStdout += d.toString()));
  simulator.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 600 && !simulatorStdout.includes('kubeconfig: '); i++) await new Promise((r) => setTimeout(r, 50));
  if (!simulatorStdout.includes('kubeconfig: ')) throw new Error(`rollout-doctor simulate did not start:\n${stderr}`);
}

describe.skipIf(!kubectl)('kubectl against rollout-doctor simulate (homelab)', () => {
  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'rd-conformance-'));
    homelab = movedHomelab(57);
    scenario = homelab.dir;
    writeConformanceObjects(scenario);
    kubeconfig = path.join(work, 'kubeconfig');
    await startSimulate();
  }, 60_000);

  afterAll(async () => {
    if (simulator && simulator.exitCode === null) {
      const exited = new Promise<number | null>((resolve) => simulator!.on('close', resolve));
      simulator.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    if (work) rmSync(work, { recursive: true, force: true });
    homelab?.remove();
  });

  it('simulate prints exactly the server and kubeconfig lines; the kubeconfig trusts a CA and carries a token', () => {
    expect(simulatorStdout).toMatch(/^server: https:\/\/127\.0\.0\.1:\d+\nkubeconfig: \S+\n$/);
    const text = readFileSync(kubeconfig, 'utf8');
    expect(text).toContain('certificate-authority-data:');
    expect(text).toContain('token:');
    expect(text).not.toContain('insecure-skip-tls-verify');
  });

  it('serve --kubeconfig against the simulator gives the /health of --simulate DIR (TLS, CA verified)', async () => {
    const serve = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--kubeconfig', kubeconfig, '--config', path.join(scenario, 'rollout-doctor.yaml'), '--listen', '127.0.0.1:0', '--log-level', 'info'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    serve.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    serve.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    try {
      let url: string | undefined;
      for (let i = 0; i < 600 && !url; i++) {
        url = /serving \/health and \/metrics on (http:\/\/\S+?)"/.exec(log)?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 50));
      }
      expect(url, log).toBeDefined();
      let body: any;
      for (let i = 0; i < 600; i++) {
        body = await (await fetch(`${url}/health`)).json();
        if (body.cycle) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const simulated = await runCheckOnce({ simulate: { dir: scenario, ephemeralAppPorts: true }, logLevel: 'silent' });
      // The two cycles ran seconds apart on the real clock: durations in seconds may differ by that much.
      const comparable = (doc: any, other: any): any => {
        const g = goldenDocument(doc) as any;
        delete g.cycle;
        // Where the credentials come from differs by design: a kubeconfig file here, the simulator's
        // in-memory kubeconfig there (kube-api names it).
        for (const check of g.checks) if (check.check === 'kube-api') delete check.details.credentials;
        const align = (a: any, b: any, key?: string): any => {
          if (typeof a === 'number' && typeof b === 'number' && key !== undefined && /seconds/i.test(key) && Math.abs(a - b) <= 60) return b;
          if (Array.isArray(a) && Array.isArray(b)) return a.map((x, i) => align(x, b[i]));
          if (a && b && typeof a === 'object' && typeof b === 'object') return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, align(v, b[k], k)]));
          return a;
        };
        return align(g, other ? comparable(other, undefined) : g);
      };
      expect(comparable(body, simulated.body)).toEqual(comparable(simulated.body, undefined));
      // The homelab's one warn: analysis-preflight measures nothing outside the demo's allowedHosts.
      expect(body.checks.filter((c: any) => c.status !== 'ok').map((c: any) => `${c.check} ${c.target} ${c.status}`)).toEqual(['analysis-preflight sympozium-system/sympozium-healthz warn']);
    } finally {
      serve.kill('SIGTERM');
    }
  }, 120_000);

  it('get with a label selector and a field selector', async () => {
    // `-o name` prints <resource>/<name> (kubectl get --help); the expected pods come from the scenario files.
    const pods = scenarioObjects('Pod');
    const labelled = pods.filter((p) => p.metadata.namespace === 'argo-rollouts' && p.metadata.labels?.['app.kubernetes.io/component'] === 'rollouts-controller');
    const byLabel = await run(['get', 'pods', '-n', 'argo-rollouts', '-l', 'app.kubernetes.io/component=rollouts-controller', '-o', 'name']);
    expect(byLabel.stdout.trim().split('\n').sort()).toEqual(labelled.map((p) => `pod/${p.metadata.name}`).sort());
    const running = pods.filter((p) => p.status?.phase === 'Running');
    const byField = await run(['get', 'pods', '-A', '--field-selector', 'status.phase=Running', '-o', 'name']);
    expect(byField.stdout.trim().split('\n').sort()).toEqual(running.map((p) => `pod/${p.metadata.name}`).sort());
  });

  it('--chunk-size pages with limit and continue and lists every object', async () => {
    const pods = scenarioObjects('Pod');
    const chunked = await run(['get', 'pods', '-A', '--chunk-size=2', '-o', 'name']);
    expect(chunked.stdout.trim().split('\n').sort()).toEqual(pods.map((p) => `pod/${p.metadata.name}`).sort());
    const verbose = await run(['get', 'pods', '-A', '--chunk-size=2', '-o', 'name', '-v=6']);
    // kubectl's request log: the first page asks limit=2, later ones carry the continue token.
    expect(verbose.stderr).toMatch(/GET https:\/\/127\.0\.0\.1:\d+\/api\/v1\/pods\?limit=2 200 OK/);
    expect(verbose.stderr).toMatch(/\/api\/v1\/pods\?continue=[A-Za-z0-9_-]+&limit=2 200 OK/);
  });

  it('server-side tables: the pod printer columns and the Rollout and AnalysisRun CRDs additionalPrinterColumns', async () => {
    // pkg/printers/internalversion/printers.go (v1.32.0): NAME READY STATUS RESTARTS AGE.
    const table = await run(['get', 'pods', '-n', 'argo-rollouts']);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    for (const pod of scenarioObjects('Pod').filter((p) => p.metadata.namespace === 'argo-rollouts')) {
      const statuses = pod.status.containerStatuses as { ready: boolean; restartCount: number }[];
      const row = lines.find((l) => l.startsWith(`${pod.metadata.name} `))!.split(/\s+/);
      expect(row.slice(0, 4)).toEqual([pod.metadata.name, `${statuses.filter((s) => s.ready).length}/${pod.spec.containers.length}`, pod.status.phase, String(statuses.reduce((n, s) => n + s.restartCount, 0))]);
    }
    // Argo Rollouts v1.9.1 manifests/crds/rollout-crd.yaml additionalPrinterColumns.
    const rollouts = await run(['get', 'rollouts', '-n', 'litellm']);
    const [header, row] = rollouts.stdout.trim().split('\n');
    expect(header).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    const rollout = scenarioObjects('Rollout').find((r) => r.metadata.namespace === 'litellm')!;
    expect(row!.split(/\s+/).slice(0, 5)).toEqual([rollout.metadata.name, String(rollout.spec.replicas), String(rollout.status.replicas), String(rollout.status.updatedReplicas), String(rollout.status.availableReplicas)]);
    // Argo Rollouts v1.9.1 manifests/crds/analysis-run-crd.yaml additionalPrinterColumns: Status, Age.
    const runs = (await run(['get', 'analysisruns', '-n', 'litellm'])).stdout.trim().split('\n');
    expect(runs[0]).toMatch(/^NAME\s+STATUS\s+AGE$/);
    expect(runs.slice(1).map((l) => l.split(/\s+/).slice(0, 2)).sort()).toEqual(
      scenarioObjects('AnalysisRun')
        .filter((r) => r.metadata.namespace === 'litellm')
        .map((r) => [r.metadata.name, r.status.phase])
        .sort(),
    );
  });

  it('logs with --tail, --since-time, --since and --previous follow the kubelet', async () => {
    const pod = scenarioObjects('Pod').find((p) => p.metadata.namespace === 'argo-rollouts' && p.metadata.labels?.['app.kubernetes.io/component'] === 'rollouts-controller')!;
    const lines = criLines(path.join(scenario, 'logs', 'argo-rollouts', `${pod.metadata.name}.log`));
    const tail = await run(['logs', '-n', 'argo-rollouts', 'deploy/argo-rollouts', '--tail=3']);
    expect(tail.stdout).toBe(`${lines.slice(-3).map(([, c]) => c).join('\n')}\n`);
    const sinceTime = lines.at(-5)![0];
    const since = await run(['logs', '-n', 'argo-rollouts', 'deploy/argo-rollouts', `--since-time=${new Date(sinceTime).toISOString()}`]);
    expect(since.stdout).toBe(`${lines.filter(([t]) => t >= sinceTime).map(([, c]) => c).join('\n')}\n`);
    // --since=N is sinceSeconds, counted back from the server's clock (this simulator runs on the real
    // one): a cut in the middle of the longest gap between two lines, so a few seconds of delay between
    // computing N and the server reading it cannot move a line across it.
    const gaps = lines.slice(1).map(([t], i) => [t - lines[i]![0], i + 1] as const);
    const [gapMs, first] = gaps.reduce((a, b) => (b[0] > a[0] ? b : a));
    expect(gapMs).toBeGreaterThan(60_000);
    const cutMs = lines[first]![0] - gapMs / 2;
    const relative = await run(['logs', '-n', 'argo-rollouts', 'deploy/argo-rollouts', `--since=${Math.ceil((Date.now() - cutMs) / 1000)}s`]);
    expect(relative.stdout).toBe(`${lines.slice(first).map(([, c]) => c).join('\n')}\n`);
    // pkg/kubelet/kubelet_pods.go validateContainerLogStatus: no lastState.terminated.
    const previous = await run(['logs', '-n', 'argo-rollouts', pod.metadata.name, '--previous']);
    expect(previous.code).toBe(1);
    expect(previous.stderr.trim()).toBe(`Error from server (BadRequest): previous terminated container "argo-rollouts" in pod "${pod.metadata.name}" not found`);
    // ... and with one, the terminated run's log, not the running one's.
    expect(await run(['logs', '-n', 'default', RESTARTED_POD, '--previous'])).toMatchObject({ code: 0, stdout: 'panic: the previous run\n' });
    expect(await run(['logs', '-n', 'default', RESTARTED_POD])).toMatchObject({ code: 0, stdout: 'the current run\n' });
  });

  it('auth can-i with and without --as, allowed and denied', async () => {
    expect(await run(['auth', 'can-i', 'create', 'ciliumenvoyconfigs', `--as=${SA}`])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await run(['auth', 'can-i', 'list', 'nodes', `--as=${SA}`])).toMatchObject({ code: 1, stdout: 'no\n' });
    // The kubeconfig's user is the cluster admin (system:masters).
    expect(await run(['auth', 'can-i', 'list', 'nodes'])).toMatchObject({ code: 0, stdout: 'yes\n' });
  });

  it('RBAC is enforced for an impersonated user (403 with the real message)', async () => {
    // apiserver pkg/endpoints/handlers/responsewriters/errors.go forbiddenMessage.
    const denied = await run(['get', 'nodes', `--as=${SA}`]);
    expect(denied.code).toBe(1);
    expect(denied.stderr.trim()).toBe(`Error from server (Forbidden): nodes is forbidden: User "${SA}" cannot list resource "nodes" in API group "" at the cluster scope`);
  });

  it('creates a SubjectAccessReview judged for the groups it sends', async () => {
    const review = (groups: string[]) => `apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: ${SA}
  groups: [${groups.join(', ')}]
  resourceAttributes: { group: cilium.io, resource: ciliumenvoyconfigs, verb: create, namespace: litellm }
`;
    const file = path.join(work, 'sar.yaml');
    writeFileSync(file, review(['system:serviceaccounts', 'system:serviceaccounts:argo-rollouts', 'system:authenticated']));
    expect(await run(['create', '-f', file, '-o', 'jsonpath={.status.allowed}'])).toMatchObject({ code: 0, stdout: 'true' });
    // A grant to the service accounts' group (writeConformanceObjects) counts only when the review sends
    // that group: the server adds none (pkg/registry/authorization/subjectaccessreview/rest.go).
    const nodes = (groups: string[]) => review(groups).replace('{ group: cilium.io, resource: ciliumenvoyconfigs, verb: create, namespace: litellm }', '{ resource: nodes, verb: get }');
    writeFileSync(file, nodes([GROUP]));
    expect(await run(['create', '-f', file, '-o', 'jsonpath={.status.allowed}'])).toMatchObject({ code: 0, stdout: 'true' });
    writeFileSync(file, nodes([]));
    expect(await run(['create', '-f', file, '-o', 'jsonpath={.status.allowed}'])).toMatchObject({ code: 0, stdout: 'false' });
    // Impersonating the service account without Impersonate-Group: the server adds its groups
    // (apiserver pkg/endpoints/filters/impersonation.go), so the group's grant applies.
    expect(await run(['auth', 'can-i', 'get', 'nodes', `--as=${SA}`])).toMatchObject({ code: 0, stdout: 'yes\n' });
  });

  it('apply (validated), patch, scale and delete change the cluster; get -w sees a patch', async () => {
    const file = path.join(work, 'cm.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: conformance, namespace: default }\ndata: { a: "1" }\n');
    expect(await run(['apply', '-f', file])).toMatchObject({ code: 0, stdout: 'configmap/conformance created\n' });
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: conformance, namespace: default }\ndata: { a: "2" }\n');
    expect(await run(['apply', '-f', file])).toMatchObject({ code: 0, stdout: 'configmap/conformance configured\n' });
    const watcher = spawn(kubectl!, ['--kubeconfig', kubeconfig, 'get', 'configmap', 'conformance', '-n', 'default', '-w', '--output-watch-events', '-o', 'jsonpath={.type} {.object.data.b}{"\\n"}'], {
      env: { ...process.env, HOME: work, KUBECONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let watched = '';
    watcher.stdout!.on('data', (d: Buffer) => (watched += d.toString()));
    try {
      for (let i = 0; i < 200 && !watched.includes('ADDED'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await run(['patch', 'configmap', 'conformance', '-n', 'default', '-p', '{"data":{"b":"3"}}'])).toMatchObject({ code: 0, stdout: 'configmap/conformance patched\n' });
      for (let i = 0; i < 200 && !watched.includes('MODIFIED'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(watched).toBe('ADDED \nMODIFIED 3\n');
    } finally {
      watcher.kill();
    }
    expect(await run(['patch', 'configmap', 'conformance', '-n', 'default', '--type=json', '-p', '[{"op":"remove","path":"/data/a"}]'])).toMatchObject({ stdout: 'configmap/conformance patched\n' });
    expect((await run(['get', 'configmap', 'conformance', '-n', 'default', '-o', 'jsonpath={.data}'])).stdout).toBe('{"b":"3"}');
    expect(await run(['scale', 'deploy/argo-rollouts', '-n', 'argo-rollouts', '--replicas=2'])).toMatchObject({ code: 0, stdout: 'deployment.apps/argo-rollouts scaled\n' });
    expect((await run(['get', 'deploy', 'argo-rollouts', '-n', 'argo-rollouts', '-o', 'jsonpath={.spec.replicas} {.metadata.generation}'])).stdout).toMatch(/^2 \d+$/);
    expect(await run(['delete', 'configmap', 'conformance', '-n', 'default'])).toMatchObject({ code: 0, stdout: 'configmap "conformance" deleted\n' });
  });

  it('explain renders a schema from /openapi/v3', async () => {
    const explained = await run(['explain', 'rollouts']);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toMatch(/^GROUP:\s+argoproj\.io\nKIND:\s+Rollout\nVERSION:\s+v1alpha1\n/);
  });

  it('error texts: 404, 400, 409, 410 and 422 as kube-apiserver writes them', async () => {
    // apimachinery pkg/api/errors/errors.go NewNotFound.
    expect((await run(['get', 'pod', 'nope', '-n', 'default'])).stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found');
    // A custom kind without its CRD: kubectl's discovery does not know the type.
    expect((await run(['get', '--raw', '/apis/example.com/v1/widgets'])).stderr.trim()).toBe('Error from server (NotFound): the server could not find the requested resource');
    // apiserver pkg/storage/etcd3/store.go resolveGetListRev.
    const token = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1, start: 'a/b\u0000' })).toString('base64url');
    expect((await run(['get', '--raw', `/api/v1/pods?limit=1&resourceVersion=5&continue=${token}`])).stderr.trim()).toBe(
      'Error from server (BadRequest): specifying resource version is not allowed when using continue',
    );
    // apiserver pkg/storage/etcd3/errors.go: a continue token whose revision is gone.
    expect((await run(['get', '--raw', `/api/v1/pods?limit=1&continue=${token}`])).stderr.trim()).toBe(
      'Error from server (Expired): The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
    );
    // apiserver pkg/storage/cacher/watch_cache.go: a watch from a revision the cache no longer holds.
    const gone = await run(['get', '--raw', '/api/v1/configmaps?watch=1&resourceVersion=1&timeoutSeconds=1']);
    expect(JSON.parse(gone.stdout.split('\n')[0]!)).toMatchObject({ type: 'ERROR', object: { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: expect.stringMatching(/^too old resource version: 1 \(\d+\)$/) } });
    // apimachinery internalversion/validation ValidateListOptions, reported by handlers/get.go.
    expect((await run(['get', '--raw', '/api/v1/pods?resourceVersionMatch=NotOlderThan'])).stderr.trim()).toBe(
      'The ListOptions "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
    );
    // pkg/apis/authorization/validation ValidateSubjectAccessReviewSpec.
    const both = path.join(work, 'sar-both.yaml');
    writeFileSync(both, `apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: alice\n  resourceAttributes: { verb: get, resource: pods }\n  nonResourceAttributes: { verb: get, path: /metrics }\n`);
    expect((await run(['create', '-f', both])).stderr.trim()).toBe(
      `The SubjectAccessReview "" is invalid: spec.nonResourceAttributes: Invalid value: authorization.NonResourceAttributes{Path:"/metrics", Verb:"get"}: cannot be specified in combination with resourceAttributes`,
    );
    // The optimistic-concurrency 409, and AlreadyExists.
    const file = path.join(work, 'stale.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: stale, namespace: default }\ndata: { a: "1" }\n');
    expect((await run(['create', '-f', file])).code).toBe(0);
    expect((await run(['create', '-f', file])).stderr.trim()).toBe(`Error from server (AlreadyExists): error when creating "${file}": configmaps "stale" already exists`);
    const rv = (await run(['get', 'configmap', 'stale', '-n', 'default', '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout;
    expect((await run(['patch', 'configmap', 'stale', '-n', 'default', '-p', '{"data":{"a":"2"}}'])).code).toBe(0);
    writeFileSync(file, `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: stale, namespace: default, resourceVersion: "${rv}" }\ndata: { a: "3" }\n`);
    expect((await run(['replace', '-f', file])).stderr.trim()).toBe(
      `Error from server (Conflict): error when replacing "${file}": Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again`,
    );
  });
});
